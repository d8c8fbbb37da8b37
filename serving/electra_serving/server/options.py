"""The server's settings: `tensorflow_model_server`'s flags (same names, same defaults where they exist).

Example:
    >>> options = ServerOptions(model_name="demo", model_base_path="/models/demo", rest_api_port=8501)
    >>> options.host, options.port
    ('127.0.0.1', 8500)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_CPUS = os.cpu_count() or 1


@dataclass
class ServerOptions:
    """Settings of `electra-tf serve`; see `add_server_flags` for each flag's help text."""

    host: str = "127.0.0.1"  # Ours: TF Serving binds every interface; we bind loopback unless told.
    port: int = 8500  # gRPC port.
    rest_api_port: int = 0  # 0 disables the REST API, as in TF Serving.
    rest_api_num_threads: int = 4 * _CPUS
    rest_api_timeout_in_ms: int = 30000
    model_name: str = "default"
    model_base_path: str = ""
    model_config_file: str = ""
    model_config_file_poll_wait_seconds: int = 0
    file_system_poll_wait_seconds: int = 1
    max_num_load_retries: int = 5
    load_retry_interval_micros: int = 60 * 1000 * 1000
    enable_batching: bool = False
    batching_parameters_file: str = ""
    grpc_max_threads: int = 4 * _CPUS
    ssl_config_file: str = ""
    monitoring_config_file: str = ""
    saved_model_tags: str = "serve"
    allow_version_labels_for_unavailable_models: bool = False
    max_request_bytes: int = 64 * 1024 * 1024  # Ours: largest gRPC message or REST body accepted.
    tensorflow_intra_op_parallelism: int = 0
    tensorflow_inter_op_parallelism: int = 0

    def __post_init__(self):
        for name in ("port", "rest_api_port"):
            value = getattr(self, name)
            if not 0 <= value <= 65535:
                raise ValueError(f"--{name} must be a port number in [0, 65535]; received {value}.")
        for name in ("rest_api_num_threads", "grpc_max_threads", "max_request_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be >= 1; received {getattr(self, name)}.")
        if self.model_config_file and self.model_base_path:
            raise ValueError("Give --model_config_file or --model_base_path (with --model_name), not both.")
        if not self.model_config_file and not self.model_base_path:
            raise ValueError("Nothing to serve: give --model_base_path (and --model_name) or --model_config_file.")
        if self.batching_parameters_file and not self.enable_batching:
            raise ValueError("--batching_parameters_file is set but --enable_batching is not; add --enable_batching.")
