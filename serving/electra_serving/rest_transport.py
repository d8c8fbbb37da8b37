"""The client's REST transport: TF Serving's `/v1/models/...` JSON API over HTTP/1.1 keep-alive.

Needs only the standard library and numpy (no TensorFlow, no protos). Requests use the columnar format
(`{"inputs": {...}}`); answers are decoded with the signature's dtypes from `/metadata`, so a float32 output
comes back float32 and strings come back as `bytes`, exactly as over gRPC.

Example:
    >>> transport = RestTransport("localhost:8501", timeout=10.0)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import urllib.parse

import numpy as np

from electra_serving.errors import UnavailableError, error_for_code, error_for_http_status
from electra_serving.results import ModelMetadata, SignatureInfo, TensorSpecInfo, VersionStatus


def _model_path(model_name: str, version: int | None, label: str | None) -> str:
    path = "/v1/models/" + urllib.parse.quote(model_name, safe="")
    if version is not None:
        path += f"/versions/{version}"
    elif label:
        path += "/labels/" + urllib.parse.quote(label, safe="")
    return path


def _jsonable(value):
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def _to_json(array: np.ndarray):
    if array.dtype == object or array.dtype.kind in ("S", "U"):
        return _jsonable(np.asarray(array, dtype=object).tolist())
    return array.tolist()


def _as_bytes(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and "b64" in value:
        return base64.b64decode(value["b64"])
    return value


def _flatten(value, out: list) -> tuple[int, ...]:
    """Appends the leaves of nested lists to `out`; returns the dense shape (sizes of the first items)."""
    if not isinstance(value, list):
        out.append(value)
        return ()
    inner = ()
    for index, item in enumerate(value):
        shape = _flatten(item, out)
        if index == 0:
            inner = shape
    return (len(value),) + inner


def _from_json(value, spec: TensorSpecInfo | None) -> np.ndarray:
    if spec is not None and spec.dtype == "DT_STRING":
        leaves: list = []
        shape = _flatten(value, leaves)
        array = np.empty(len(leaves), dtype=object)
        array[:] = [_as_bytes(leaf) for leaf in leaves]
        return array.reshape(shape)
    array = np.asarray(value)
    return array.astype(spec.numpy_dtype) if spec is not None else array


def _tensor_spec(info: dict) -> TensorSpecInfo:
    shape_info = info.get("tensor_shape", {})
    shape = None if shape_info.get("unknown_rank") else tuple(
        None if int(d.get("size", -1)) < 0 else int(d["size"]) for d in shape_info.get("dim", [])
    )
    return TensorSpecInfo(info.get("dtype", "DT_INVALID"), shape)


class RestTransport:
    """Calls one server over HTTP; failures raise the `ServingError` matching the HTTP status.

    Args:
        target: str. `host:port` or `http://host:port`.
        timeout: float. Seconds per call.
    """

    def __init__(self, target: str, timeout: float):
        parsed = urllib.parse.urlsplit(target if "://" in target else f"http://{target}")
        if parsed.scheme != "http":
            raise ValueError(f"REST targets are http://host:port (TF Serving's REST API has no TLS); received {target!r}.")
        self._host, self._port = parsed.hostname, parsed.port or 80
        self.timeout = timeout
        self._local = threading.local()  # One keep-alive connection per thread.
        self._signatures: dict[tuple, ModelMetadata] = {}

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.connection = connection
        return connection

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        payload = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in range(2):  # A keep-alive connection the server closed is reopened once.
            connection = self._connection()
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest,
                    http.client.BadStatusLine) as error:
                connection.close()
                self._local.connection = None
                if attempt == 1 or isinstance(error, ConnectionRefusedError):
                    raise UnavailableError(f"Cannot reach {self._host}:{self._port}: {error}") from None
            except socket.timeout:
                connection.close()
                self._local.connection = None
                raise error_for_code("DEADLINE_EXCEEDED", f"No answer from {self._host}:{self._port} within "
                                     f"{self.timeout} s") from None
        try:
            document = json.loads(data) if data else {}
        except json.JSONDecodeError:
            document = {"error": data.decode("utf-8", "replace")}
        if response.status != 200:
            raise error_for_http_status(response.status, document.get("error", f"HTTP {response.status}"))
        return document

    def predict(self, model_name, version, label, signature_name, inputs: dict[str, np.ndarray],
                output_filter: list[str] | None) -> tuple[dict[str, np.ndarray], int | None]:
        """One `:predict` call; returns (outputs by alias, None: REST answers do not name the version)."""
        signature = self._signature(model_name, version, label, signature_name)
        body = {"signature_name": signature_name, "inputs": {k: _to_json(v) for k, v in inputs.items()}}
        document = self._request("POST", _model_path(model_name, version, label) + ":predict", body)
        raw = document["outputs"]
        names = sorted(signature.outputs) if signature is not None else []
        if not isinstance(raw, dict) or (len(names) == 1 and names[0] not in raw):
            raw = {names[0]: raw}
        outputs = {alias: _from_json(value, signature.outputs.get(alias) if signature else None)
                   for alias, value in raw.items()}
        if output_filter:
            outputs = {alias: outputs[alias] for alias in output_filter}
        return outputs, None

    def _signature(self, model_name, version, label, signature_name) -> SignatureInfo | None:
        key = (model_name, version, label)
        if key not in self._signatures:
            self._signatures[key] = self.metadata(model_name, version, label)
        return self._signatures[key].signatures.get(signature_name)

    def metadata(self, model_name, version, label) -> ModelMetadata:
        document = self._request("GET", _model_path(model_name, version, label) + "/metadata")
        signature_defs = document["metadata"]["signature_def"].get("signature_def", {})
        signatures = {
            name: SignatureInfo(
                method_name=proto.get("method_name", ""),
                inputs={k: _tensor_spec(v) for k, v in sorted(proto.get("inputs", {}).items())},
                outputs={k: _tensor_spec(v) for k, v in sorted(proto.get("outputs", {}).items())},
            )
            for name, proto in sorted(signature_defs.items())
        }
        spec = document["model_spec"]
        return ModelMetadata(spec["name"], int(spec.get("version", 0)), signatures)

    def status(self, model_name, version, label) -> list[VersionStatus]:
        document = self._request("GET", _model_path(model_name, version, label))
        return [
            VersionStatus(int(s["version"]), s["state"], s.get("status", {}).get("error_code", "OK"),
                          s.get("status", {}).get("error_message", ""))
            for s in document.get("model_version_status", [])
        ]

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
