"""The gRPC front end: `tensorflow.serving.PredictionService`, `ModelService` and `grpc.health.v1.Health`.

The servicers subclass the generated ones from `tensorflow_serving.apis`, so method names, request and
response types are TF Serving's own; errors abort the call with TF Serving's code and message.

Example:
    >>> add_services(grpc_server, manager, predictor, metrics)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time

import grpc
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from electra_serving.server import extra_protos
from electra_serving.server.metrics import MetricsRegistry
from electra_serving.server.model_manager import ServableManager
from electra_serving.server.predict_checks import (
    DEFAULT_SIGNATURE,
    as_status,
    check_input_names,
    select_outputs,
    signature_for_grpc,
)
from electra_serving.server.predictor import Predictor
from electra_serving.server.status import ServingStatus, invalid_argument
from electra_serving.tensor_proto import from_tensor_proto, to_tensor_proto

logger = logging.getLogger("electra_serving.server")

SIGNATURE_DEF_FIELD = "signature_def"
_STATE_VALUES = get_model_status_pb2.ModelVersionStatus.State.Value


def model_spec_choice(model_spec) -> tuple[str, int | None, str | None]:
    """(name, version or None, label or None) from a `ModelSpec`."""
    choice = model_spec.WhichOneof("version_choice")
    version = model_spec.version.value if choice == "version" else None
    label = model_spec.version_label if choice == "version_label" else None
    return model_spec.name, version, label


def _abort(context: grpc.ServicerContext, error: Exception):
    status = as_status(error)
    if status.code == "INTERNAL":
        logger.exception("Internal error while serving a request", exc_info=error)
    context.abort(status.grpc_code, status.message)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict and GetModelMetadata; Classify, Regress and MultiInference answer UNIMPLEMENTED."""

    def __init__(self, manager: ServableManager, predictor: Predictor, metrics: MetricsRegistry):
        self._manager = manager
        self._predictor = predictor
        self._metrics = metrics

    def Predict(self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext):
        start = time.perf_counter()
        status = "OK"
        try:
            return self._predict(request, context)
        except Exception as error:
            status = as_status(error).code
            _abort(context, error)
        finally:
            self._metrics.count_request(
                request.model_spec.name, request.model_spec.signature_name or DEFAULT_SIGNATURE, "predict",
                "GRPC", status, time.perf_counter() - start,
            )

    def _predict(self, request, context) -> predict_pb2.PredictResponse:
        if not request.HasField("model_spec"):
            raise invalid_argument("Missing ModelSpec")
        servable = self._manager.servable(*model_spec_choice(request.model_spec))
        signature = signature_for_grpc(servable, request.model_spec.signature_name)
        check_input_names(signature, request.inputs.keys())
        inputs = {}
        for alias in sorted(request.inputs):
            try:
                inputs[alias] = from_tensor_proto(request.inputs[alias])
            except ValueError:
                raise invalid_argument(f"tensor parsing error: {alias}") from None
        output_aliases = select_outputs(signature, request.output_filter)
        outputs = self._predictor.predict(servable, signature, inputs, output_aliases, context.time_remaining())
        response = predict_pb2.PredictResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature.name
        for alias, value in outputs.items():
            response.outputs[alias].CopyFrom(to_tensor_proto(value))
        return response

    def GetModelMetadata(self, request: get_model_metadata_pb2.GetModelMetadataRequest, context):
        start = time.perf_counter()
        status = "OK"
        try:
            return model_metadata(self._manager, request)
        except Exception as error:
            status = as_status(error).code
            _abort(context, error)
        finally:
            self._metrics.count_request(request.model_spec.name, "", "GetModelMetadata", "GRPC", status,
                                        time.perf_counter() - start)

    def Classify(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Classify is not served by electra-tf serve; use Predict.")

    def Regress(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Regress is not served by electra-tf serve; use Predict.")

    def MultiInference(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED,
                      "MultiInference is not served by electra-tf serve; use Predict.")


def model_metadata(manager: ServableManager, request) -> get_model_metadata_pb2.GetModelMetadataResponse:
    """TF Serving's `GetModelMetadataImpl`: the SignatureDefMap of the version a ModelSpec resolves to."""
    if not request.HasField("model_spec"):
        raise invalid_argument("Missing ModelSpec")
    if not request.metadata_field:
        raise invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
    for field in request.metadata_field:
        if field != SIGNATURE_DEF_FIELD:
            raise invalid_argument(f"Metadata field {field} is not supported")
    servable = manager.servable(*model_spec_choice(request.model_spec))
    signature_def_map = get_model_metadata_pb2.SignatureDefMap()
    for name, signature_def in servable.meta_graph.signature_def.items():
        signature_def_map.signature_def[name].CopyFrom(signature_def)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = servable.name
    response.model_spec.version.value = servable.version
    response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_def_map)
    return response


def model_status(manager: ServableManager, request) -> get_model_status_pb2.GetModelStatusResponse:
    """TF Serving's `GetModelStatusImpl`: the state of one version, or of every version seen."""
    if not request.HasField("model_spec"):
        raise invalid_argument("Missing ModelSpec")
    response = get_model_status_pb2.GetModelStatusResponse()
    for version, state in manager.version_states(*model_spec_choice(request.model_spec)):
        entry = response.model_version_status.add(version=version, state=_STATE_VALUES(state.state))
        entry.status.error_code = grpc.StatusCode[state.error_code].value[0]
        entry.status.error_message = state.error_message
    return response


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus and HandleReloadConfigRequest."""

    def __init__(self, manager: ServableManager):
        self._manager = manager

    def GetModelStatus(self, request, context):
        try:
            return model_status(self._manager, request)
        except Exception as error:
            _abort(context, error)

    def HandleReloadConfigRequest(self, request: model_management_pb2.ReloadConfigRequest, context):
        try:
            self._manager.reload_config(request.config)
        except Exception as error:
            logger.error("ReloadConfig failed: %s", as_status(error).message)
            _abort(context, error)
        response = model_management_pb2.ReloadConfigResponse()
        response.status.error_code = 0
        return response


def _health_status(manager: ServableManager, service: str):
    if service not in ("", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService"):
        raise ServingStatus("NOT_FOUND", f"unknown service {service!r}")
    serving = extra_protos.HealthCheckResponse.ServingStatus.Value
    return serving("SERVING") if manager.all_models_available() else serving("NOT_SERVING")


def health_handler(manager: ServableManager) -> grpc.GenericRpcHandler:
    """`grpc.health.v1.Health`: SERVING once every configured model has a version loaded."""

    def check(request, context):
        try:
            return extra_protos.HealthCheckResponse(status=_health_status(manager, request.service))
        except ServingStatus as error:
            context.abort(error.grpc_code, error.message)

    def watch(request, context):
        last = None
        while context.is_active():
            try:
                status = _health_status(manager, request.service)
            except ServingStatus:
                status = extra_protos.HealthCheckResponse.ServingStatus.Value("SERVICE_UNKNOWN")
            if status != last:
                last = status
                yield extra_protos.HealthCheckResponse(status=status)
            time.sleep(1.0)

    return grpc.method_handlers_generic_handler(
        extra_protos.HEALTH_SERVICE_NAME,
        {
            "Check": grpc.unary_unary_rpc_method_handler(
                check,
                request_deserializer=extra_protos.HealthCheckRequest.FromString,
                response_serializer=extra_protos.HealthCheckResponse.SerializeToString,
            ),
            "Watch": grpc.unary_stream_rpc_method_handler(
                watch,
                request_deserializer=extra_protos.HealthCheckRequest.FromString,
                response_serializer=extra_protos.HealthCheckResponse.SerializeToString,
            ),
        },
    )


def add_services(server: grpc.Server, manager: ServableManager, predictor: Predictor,
                 metrics: MetricsRegistry) -> None:
    """Registers the three services on a `grpc.Server`."""
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(manager, predictor, metrics), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(manager), server)
    server.add_generic_rpc_handlers((health_handler(manager),))
