"""The REST front end: TF Serving's `/v1/models/...` routes on `http.server.ThreadingHTTPServer`.

    GET  /v1/models/<name>[/versions/<v> | /labels/<l>]              model status
    GET  /v1/models/<name>[/versions/<v> | /labels/<l>]/metadata     signature defs
    POST /v1/models/<name>[/versions/<v> | /labels/<l>]:predict      {"instances": ...} or {"inputs": ...}
    GET  /monitoring/prometheus/metrics                               when the monitoring config enables it

Errors answer `{"error": "<message>"}` with TF Serving's HTTP status for the code (400, 404, 429, 503, ...).
HTTP/1.1 keep-alive is on; at most `rest_api_num_threads` requests are processed at once.

Example:
    >>> server = RestServer(("127.0.0.1", 8501), manager, predictor, metrics, options)  # doctest: +SKIP
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()  # doctest: +SKIP
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import threading
import time
import urllib.parse

from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from electra_serving.server import json_tensors
from electra_serving.server.grpc_services import SIGNATURE_DEF_FIELD, model_metadata, model_status
from electra_serving.server.metrics import MetricsRegistry
from electra_serving.server.model_manager import ServableManager
from electra_serving.server.predict_checks import (
    DEFAULT_SIGNATURE,
    as_status,
    check_input_names,
    select_outputs,
    signature_for_rest,
)
from electra_serving.server.predictor import Predictor
from electra_serving.server.status import ServingStatus, invalid_argument

logger = logging.getLogger("electra_serving.server")

# kPredictionApiGegex and kModelStatusApiRegex from model_servers/http_rest_api_util.cc.
_PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.IGNORECASE
)
_STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.IGNORECASE
)


def _model_spec_parts(match: re.Match) -> tuple[str, int | None, str | None]:
    name = urllib.parse.unquote(match.group(1) or "")
    version_text, label = match.group(2), match.group(3)
    if version_text is not None:
        try:
            version = int(version_text)
        except ValueError:
            raise invalid_argument(f"Failed to convert version: {version_text} to numeric.") from None
        return name, version, None
    return name, None, urllib.parse.unquote(label) if label else None


def _fill_model_spec(spec, name: str, version: int | None, label: str | None) -> None:
    spec.name = name
    if version is not None:
        spec.version.value = version
    if label:
        spec.version_label = label


class RestOptions:
    """What the REST front end needs from the server flags."""

    def __init__(self, num_threads: int, timeout_s: float | None, max_request_bytes: int, metrics_path: str | None):
        self.num_threads = num_threads
        self.timeout_s = timeout_s
        self.max_request_bytes = max_request_bytes
        self.metrics_path = metrics_path


class RestServer(http.server.ThreadingHTTPServer):
    """The HTTP server; one `_Handler` per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, manager: ServableManager, predictor: Predictor, metrics: MetricsRegistry,
                 options: RestOptions):
        self.manager = manager
        self.predictor = predictor
        self.metrics = metrics
        self.options = options
        self.request_slots = threading.BoundedSemaphore(options.num_threads)
        super().__init__(address, _Handler)


_DRAIN_LIMIT_FACTOR = 16  # an over-limit body up to 16 × --max_request_bytes is read and dropped before the 413


def _discard(stream, length: int, chunk_size: int = 1 << 16) -> None:
    """Reads and drops `length` bytes of `stream` (fewer when the client stops sending)."""
    while length > 0:
        chunk = stream.read(min(chunk_size, length))
        if not chunk:
            return
        length -= len(chunk)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RestServer
    server_version = "electra-tf-serve"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature.
        logger.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, error: Exception) -> None:
        status = as_status(error)
        if status.code == "INTERNAL":
            logger.exception("Internal error while serving a REST request", exc_info=error)
        self._send(status.http_status, json.dumps({"error": status.message}, ensure_ascii=False).encode("utf-8"))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        limit = self.server.options.max_request_bytes
        if length > limit:
            self.close_connection = True  # The unread body must not be parsed as the next request.
            if length <= _DRAIN_LIMIT_FACTOR * limit:
                # Read the body before answering: a client still sending would otherwise see a broken pipe
                # (or a reset) instead of the 413. Far larger bodies are not read: the connection just closes.
                _discard(self.rfile, length)
            raise ServingStatus(
                "RESOURCE_EXHAUSTED",
                f"Request body of {length} bytes exceeds the server's limit of {limit} bytes (--max_request_bytes).",
                http_status=413,
            )
        return self.rfile.read(length) if length else b""

    def do_GET(self):  # noqa: N802 - http.server's naming.
        path = urllib.parse.urlsplit(self.path).path
        with self.server.request_slots:
            try:
                if self.server.options.metrics_path and path == self.server.options.metrics_path:
                    self._send(200, self.server.metrics.render().encode("utf-8"), "text/plain; version=0.0.4")
                    return
                match = _STATUS_PATH.fullmatch(path)
                if not match:
                    raise self._malformed(path)
                name, version, label = _model_spec_parts(match)
                if not name:
                    raise invalid_argument("Missing model name in request.")
                if match.group(4):
                    self._send(200, self._metadata(name, version, label))
                else:
                    self._send(200, self._status(name, version, label))
            except Exception as error:
                self._send_error(error)

    def do_POST(self):  # noqa: N802 - http.server's naming.
        path = urllib.parse.urlsplit(self.path).path
        start = time.perf_counter()
        model, signature_name, status = "", "", "OK"
        with self.server.request_slots:
            try:
                body = self._read_body()
                match = _PREDICTION_PATH.fullmatch(path)
                if not match:
                    raise self._malformed(path)
                name, version, label = _model_spec_parts(match)
                model = name
                if match.group(4).lower() != "predict":
                    raise ServingStatus(
                        "UNIMPLEMENTED", f"{match.group(4)} is not served by electra-tf serve; use :predict."
                    )
                document = json_tensors.parse_json(body)
                signature_name = json_tensors.signature_name_of(document) or DEFAULT_SIGNATURE
                self._send(200, self._predict(name, version, label, document))
            except Exception as error:
                status = as_status(error).code
                self._send_error(error)
            finally:
                if model:
                    self.server.metrics.count_request(model, signature_name or DEFAULT_SIGNATURE, "predict", "REST",
                                                      status, time.perf_counter() - start)

    def _malformed(self, path: str) -> ServingStatus:
        if not path.lower().startswith("/v1/"):
            return ServingStatus("NOT_FOUND", f"Not found: {self.command} {path}")
        return invalid_argument(f"Malformed request: {self.command} {path}")

    def _predict(self, name, version, label, document) -> bytes:
        servable = self.server.manager.servable(name, version, label)
        signature = signature_for_rest(servable, json_tensors.signature_name_of(document))
        inputs, row_format = json_tensors.inputs_from_json(document, signature.inputs)
        check_input_names(signature, inputs)
        outputs = self.server.predictor.predict(
            servable, signature, inputs, select_outputs(signature, ()), self.server.options.timeout_s
        )
        return json_tensors.outputs_to_json(outputs, row_format)

    def _status(self, name, version, label) -> bytes:
        request = get_model_status_pb2.GetModelStatusRequest()
        _fill_model_spec(request.model_spec, name, version, label)
        response = model_status(self.server.manager, request)
        body = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
        return json.dumps(body, indent=1).encode("utf-8")

    def _metadata(self, name, version, label) -> bytes:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=[SIGNATURE_DEF_FIELD])
        _fill_model_spec(request.model_spec, name, version, label)
        response = model_metadata(self.server.manager, request)
        signature_def_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_def_map)
        options = dict(preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
        body = {
            "model_spec": json_format.MessageToDict(response.model_spec, **options),
            "metadata": {SIGNATURE_DEF_FIELD: json_format.MessageToDict(signature_def_map, **options)},
        }
        return json.dumps(body, indent=1).encode("utf-8")
