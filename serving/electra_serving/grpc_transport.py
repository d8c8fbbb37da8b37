"""The client's gRPC transport: TF Serving's PredictionService and ModelService stubs, optional TLS.

Importing this module imports `tensorflow_serving.apis`, whose generated protos import the `tensorflow`
package (the wheel's `tensor_pb2` lives there); `electra_serving.Client` therefore imports it only when a
gRPC client is created, and the REST transport never does.

Example:
    >>> transport = GrpcTransport("localhost:8500", timeout=10.0, tls=None)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import numpy as np
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from electra_serving import dtypes
from electra_serving.errors import error_for_code
from electra_serving.results import ModelMetadata, SignatureInfo, TensorSpecInfo, VersionStatus
from electra_serving.tensor_proto import from_tensor_proto, to_tensor_proto


@dataclass(frozen=True)
class TlsConfig:
    """TLS for the gRPC channel.

    Attributes:
        root_certificates: bytes | None. PEM of the CA that signed the server's certificate (None: system CAs).
        private_key: bytes | None. PEM client key, for servers that verify clients (`client_verify: true`).
        certificate_chain: bytes | None. PEM client certificate chain, with `private_key`.
        server_name_override: str | None. Name to check the server certificate against, when it differs from
            the target's host (e.g. a certificate for "localhost" reached as 127.0.0.1).
    """

    root_certificates: bytes | None = None
    private_key: bytes | None = None
    certificate_chain: bytes | None = None
    server_name_override: str | None = None

    @classmethod
    def from_files(cls, ca_file: str | None = None, key_file: str | None = None, cert_file: str | None = None,
                   server_name_override: str | None = None) -> "TlsConfig":
        def read(path):
            if path is None:
                return None
            with open(path, "rb") as file:
                return file.read()

        return cls(read(ca_file), read(key_file), read(cert_file), server_name_override)


def _tensor_spec(proto) -> TensorSpecInfo:
    shape = None if proto.tensor_shape.unknown_rank else tuple(
        None if d.size < 0 else d.size for d in proto.tensor_shape.dim
    )
    return TensorSpecInfo(dtypes.NAMES_BY_ENUM.get(proto.dtype, "DT_INVALID"), shape)


def _fill_model_spec(spec, model_name: str, version: int | None, label: str | None) -> None:
    spec.name = model_name
    if version is not None:
        spec.version.value = version
    elif label:
        spec.version_label = label


class GrpcTransport:
    """Calls one server over gRPC; failures raise the `ServingError` subclass of their status code.

    Args:
        target: str. `host:port`.
        timeout: float. Seconds per call.
        tls: TlsConfig | None. None for a plaintext channel.
    """

    def __init__(self, target: str, timeout: float, tls: TlsConfig | None):
        self.timeout = timeout
        options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
        if tls is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            if tls.server_name_override:
                options.append(("grpc.ssl_target_name_override", tls.server_name_override))
            credentials = grpc.ssl_channel_credentials(tls.root_certificates, tls.private_key, tls.certificate_chain)
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._prediction = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise error_for_code(error.code().name, error.details() or "") from None

    def predict(self, model_name, version, label, signature_name, inputs: dict[str, np.ndarray],
                output_filter: list[str] | None) -> tuple[dict[str, np.ndarray], int]:
        """One Predict call; returns (outputs by alias, the version that answered)."""
        request = predict_pb2.PredictRequest()
        _fill_model_spec(request.model_spec, model_name, version, label)
        request.model_spec.signature_name = signature_name
        for alias, value in inputs.items():
            request.inputs[alias].CopyFrom(to_tensor_proto(value))
        request.output_filter.extend(output_filter or [])
        response = self._call(self._prediction.Predict, request)
        outputs = {alias: from_tensor_proto(proto) for alias, proto in response.outputs.items()}
        return outputs, response.model_spec.version.value

    def metadata(self, model_name, version, label) -> ModelMetadata:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        _fill_model_spec(request.model_spec, model_name, version, label)
        response = self._call(self._prediction.GetModelMetadata, request)
        signature_def_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_def_map)
        signatures = {
            name: SignatureInfo(
                method_name=proto.method_name,
                inputs={k: _tensor_spec(v) for k, v in sorted(proto.inputs.items())},
                outputs={k: _tensor_spec(v) for k, v in sorted(proto.outputs.items())},
            )
            for name, proto in sorted(signature_def_map.signature_def.items())
        }
        return ModelMetadata(response.model_spec.name, response.model_spec.version.value, signatures)

    def status(self, model_name, version, label) -> list[VersionStatus]:
        request = get_model_status_pb2.GetModelStatusRequest()
        _fill_model_spec(request.model_spec, model_name, version, label)
        response = self._call(self._models.GetModelStatus, request)
        states = get_model_status_pb2.ModelVersionStatus.State.Name
        codes = {code.value[0]: code.name for code in grpc.StatusCode}
        return [
            VersionStatus(s.version, states(s.state), codes.get(s.status.error_code, "UNKNOWN"), s.status.error_message)
            for s in response.model_version_status
        ]

    def close(self) -> None:
        self._channel.close()
