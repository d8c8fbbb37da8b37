"""Command-line flags of the server, named as `tensorflow_model_server` names them.

Both `--flag value` and TF Serving's `--flag=value` work; booleans take `--enable_batching`,
`--enable_batching=true` or `--enable_batching=false`.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_server_flags(parser)
    >>> args = parser.parse_args(["--model_name=demo", "--model_base_path=/m", "--enable_batching"])
    >>> options_from_args(args).enable_batching
    True
"""

from __future__ import annotations

import argparse
import dataclasses

from electra_serving.server.options import ServerOptions


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, received {text!r}")


_HELP = {
    "host": "Address to bind (ours; TF Serving binds all interfaces). Default 127.0.0.1: only this machine. "
    "Use 0.0.0.0 to serve the network.",
    "port": "Port for the gRPC API.",
    "rest_api_port": "Port for the HTTP/REST API; 0 (the default) disables it.",
    "rest_api_num_threads": "Most REST requests processed at once.",
    "rest_api_timeout_in_ms": "Timeout for a REST request, in milliseconds (0: none).",
    "model_name": "Name of the model served with --model_base_path.",
    "model_base_path": "Folder holding the model's numbered version folders (<base>/<version>/saved_model.pb).",
    "model_config_file": "A ModelServerConfig text proto listing models, version policies and labels; "
    "replaces --model_name/--model_base_path.",
    "model_config_file_poll_wait_seconds": "Seconds between re-reads of --model_config_file (0: read once).",
    "file_system_poll_wait_seconds": "Seconds between scans of the base paths for new versions (0: never).",
    "max_num_load_retries": "Retries of a version that fails to load.",
    "load_retry_interval_micros": "Microseconds between those retries.",
    "enable_batching": "Merge concurrent requests to a signature into one model run.",
    "batching_parameters_file": "A BatchingParameters text proto (max_batch_size, batch_timeout_micros, "
    "num_batch_threads, max_enqueued_batches, allowed_batch_sizes, pad_variable_length_inputs).",
    "grpc_max_threads": "Most gRPC calls handled at once.",
    "ssl_config_file": "An SSLConfig text proto (server_key, server_cert, custom_ca, client_verify) with the "
    "PEM text: turns on TLS for gRPC.",
    "monitoring_config_file": "A MonitoringConfig text proto; prometheus_config { enable: true } serves "
    "metrics on the REST port at /monitoring/prometheus/metrics.",
    "saved_model_tags": "Comma-separated MetaGraphDef tags to load.",
    "allow_version_labels_for_unavailable_models": "Let version labels point at versions not loaded yet.",
    "max_request_bytes": "Largest gRPC request message or REST body accepted (ours), in bytes.",
    "tensorflow_intra_op_parallelism": "Threads inside one TensorFlow op (0: TensorFlow decides).",
    "tensorflow_inter_op_parallelism": "TensorFlow ops run at once (0: TensorFlow decides).",
}


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """Adds one flag per `ServerOptions` field, with its default and type."""
    defaults = ServerOptions.__dataclass_fields__
    for field in dataclasses.fields(ServerOptions):
        default = defaults[field.name].default
        flag = f"--{field.name}"
        if isinstance(default, bool):
            parser.add_argument(flag, type=_bool, nargs="?", const=True, default=default, metavar="BOOL",
                                help=_HELP[field.name])
        else:
            parser.add_argument(flag, type=type(default), default=default, help=_HELP[field.name]
                                + (f" Default: {default}." if default not in ("",) else ""))


def options_from_args(args: argparse.Namespace) -> ServerOptions:
    """The `ServerOptions` of parsed flags (raises ValueError on contradictory flags)."""
    return ServerOptions(**{field.name: getattr(args, field.name) for field in dataclasses.fields(ServerOptions)})
