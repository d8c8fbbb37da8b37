"""`ModelServer`: loads the configured models and runs the gRPC and REST front ends around them.

Example:
    >>> server = ModelServer(ServerOptions(model_name="demo", model_base_path="saved_models/demo"))
    >>> server.start()  # doctest: +SKIP
    >>> server.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading

import grpc
from google.protobuf import text_format

from electra_serving.server import config_files, grpc_services
from electra_serving.server.batching import BatchingOptions
from electra_serving.server.metrics import MetricsRegistry
from electra_serving.server.model_manager import ServableManager
from electra_serving.server.options import ServerOptions
from electra_serving.server.predictor import Predictor
from electra_serving.server.rest_api import RestOptions, RestServer
from electra_serving.server.status import ServingStatus

logger = logging.getLogger("electra_serving.server")

DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"


class ModelServer:
    """A TF Serving-compatible model server in one process.

    Args:
        options: ServerOptions (the command-line flags).

    Attributes:
        manager: ServableManager. The loaded versions.
        metrics: MetricsRegistry.
        grpc_port: int. The bound gRPC port (after `start`).
        rest_port: int | None. The bound REST port, None when the REST API is off.
    """

    def __init__(self, options: ServerOptions):
        self.options = options
        self.metrics = MetricsRegistry()
        self.manager = ServableManager(
            saved_model_tags=tuple(t for t in options.saved_model_tags.split(",") if t),
            max_num_load_retries=options.max_num_load_retries,
            load_retry_interval_s=options.load_retry_interval_micros / 1e6,
            allow_version_labels_for_unavailable_models=options.allow_version_labels_for_unavailable_models,
        )
        batching = None
        if options.enable_batching:
            batching = BatchingOptions()
            if options.batching_parameters_file:
                batching = BatchingOptions.from_proto(
                    config_files.read_batching_parameters(options.batching_parameters_file)
                )
        self.batching = batching
        self.metrics_path = None
        if options.monitoring_config_file:
            monitoring = config_files.read_monitoring_config(options.monitoring_config_file)
            if monitoring.prometheus_config.enable:
                self.metrics_path = monitoring.prometheus_config.path or DEFAULT_PROMETHEUS_PATH
        self.ssl_config = config_files.read_ssl_config(options.ssl_config_file) if options.ssl_config_file else None
        self.predictor: Predictor | None = None
        self.grpc_port = 0
        self.rest_port: int | None = None
        self._grpc_server: grpc.Server | None = None
        self._rest_server: RestServer | None = None
        self._stopped = threading.Event()
        self._config_text = ""

    def _initial_config(self):
        if self.options.model_config_file:
            return config_files.read_model_server_config(self.options.model_config_file)
        return config_files.model_server_config_for_model(self.options.model_name, self.options.model_base_path)

    def start(self) -> None:
        """Loads every model's aspired versions, then opens the ports; returns once serving."""
        import tensorflow as tf  # The runtime settings must precede the first TensorFlow op.

        if self.options.tensorflow_intra_op_parallelism:
            tf.config.threading.set_intra_op_parallelism_threads(self.options.tensorflow_intra_op_parallelism)
        if self.options.tensorflow_inter_op_parallelism:
            tf.config.threading.set_inter_op_parallelism_threads(self.options.tensorflow_inter_op_parallelism)
        config = self._initial_config()
        self._config_text = text_format.MessageToString(config)
        try:
            self.manager.reload_config(config)
        except ServingStatus as error:
            raise ValueError(error.message) from None
        self.predictor = Predictor(self.metrics, self.batching)
        self._start_grpc()
        if self.options.rest_api_port:
            self._start_rest()
        self.manager.start_polling(self.options.file_system_poll_wait_seconds)
        if self.options.model_config_file and self.options.model_config_file_poll_wait_seconds > 0:
            threading.Thread(target=self._poll_config_file, name="electra-serving-config", daemon=True).start()

    def _start_grpc(self) -> None:
        server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=self.options.grpc_max_threads,
                                                  thread_name_prefix="electra-serving-grpc"),
            options=[
                ("grpc.max_receive_message_length", self.options.max_request_bytes),
                ("grpc.max_send_message_length", -1),
                ("grpc.so_reuseport", 0),
            ],
        )
        grpc_services.add_services(server, self.manager, self.predictor, self.metrics)
        address = f"{self.options.host}:{self.options.port}"
        if self.ssl_config is not None:
            credentials = grpc.ssl_server_credentials(
                [(self.ssl_config.server_key.encode(), self.ssl_config.server_cert.encode())],
                root_certificates=self.ssl_config.custom_ca.encode() or None,
                require_client_auth=self.ssl_config.client_verify,
            )
            self.grpc_port = server.add_secure_port(address, credentials)
        else:
            self.grpc_port = server.add_insecure_port(address)
        if not self.grpc_port:
            raise OSError(f"Cannot bind the gRPC port at {address} (in use?).")
        server.start()
        self._grpc_server = server
        logger.info("Running gRPC ModelServer at %s:%d%s", self.options.host, self.grpc_port,
                    " (TLS)" if self.ssl_config else "")

    def _start_rest(self) -> None:
        timeout_ms = self.options.rest_api_timeout_in_ms
        rest_options = RestOptions(
            num_threads=self.options.rest_api_num_threads,
            timeout_s=timeout_ms / 1000 if timeout_ms > 0 else None,
            max_request_bytes=self.options.max_request_bytes,
            metrics_path=self.metrics_path,
        )
        self._rest_server = RestServer((self.options.host, self.options.rest_api_port), self.manager,
                                       self.predictor, self.metrics, rest_options)
        self.rest_port = self._rest_server.server_address[1]
        threading.Thread(target=self._rest_server.serve_forever, name="electra-serving-rest", daemon=True).start()
        logger.info("Exporting HTTP/REST API at %s:%d", self.options.host, self.rest_port)

    def _poll_config_file(self) -> None:
        while not self._stopped.wait(self.options.model_config_file_poll_wait_seconds):
            try:
                config = config_files.read_model_server_config(self.options.model_config_file)
                text = text_format.MessageToString(config)
                if text != self._config_text:
                    self.manager.reload_config(config)
                    self._config_text = text
                    logger.info("Reloaded model config from %s", self.options.model_config_file)
            except (ValueError, OSError, ServingStatus) as error:
                logger.error("Not reloading %s: %s", self.options.model_config_file, error)

    def stop(self, grace_s: float = 2.0) -> None:
        """Stops accepting requests, lets running ones finish for up to `grace_s`, releases the ports."""
        self._stopped.set()
        self.manager.stop()
        if self._rest_server is not None:
            self._rest_server.shutdown()
            self._rest_server.server_close()
        if self._grpc_server is not None:
            self._grpc_server.stop(grace_s).wait()
        if self.predictor is not None:
            self.predictor.stop()
