"""TF Serving and gRPC protos that the `tensorflow-serving-api` wheel does not ship, rebuilt field for field.

The wheel carries `ModelServerConfig` but not `BatchingParameters` (session_bundle_config.proto),
`MonitoringConfig` (monitoring_config.proto), `SSLConfig` (ssl_config.proto) nor `grpc.health.v1`
(grpcio-health-checking is a separate package). Each is declared here with the upstream package, names and
field numbers, in a private descriptor pool, so the text-format files written for `tensorflow_model_server`
parse unchanged and a standard health probe (`grpc_health_probe`) speaks to our server.

Example:
    >>> from google.protobuf import text_format
    >>> params = text_format.Parse("max_batch_size { value: 32 }", BatchingParameters())
    >>> params.max_batch_size.value
    32
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2

_FIELD = descriptor_pb2.FieldDescriptorProto
_INT64_VALUE = ".google.protobuf.Int64Value"
_STRING_VALUE = ".google.protobuf.StringValue"
_BOOL_VALUE = ".google.protobuf.BoolValue"


def _field(name: str, number: int, kind: int, type_name: str = "", repeated: bool = False) -> _FIELD:
    label = _FIELD.LABEL_REPEATED if repeated else _FIELD.LABEL_OPTIONAL
    field = _FIELD(name=name, number=number, type=kind, label=label)
    if type_name:
        field.type_name = type_name
    return field


def _build_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(wrappers_pb2.DESCRIPTOR.serialized_pb))

    # tensorflow_serving/servables/tensorflow/session_bundle_config.proto (BatchingParameters only).
    batching = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/servables/tensorflow/batching_parameters.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=["google/protobuf/wrappers.proto"],
    )
    batching.message_type.add(
        name="BatchingParameters",
        field=[
            _field("max_batch_size", 1, _FIELD.TYPE_MESSAGE, _INT64_VALUE),
            _field("batch_timeout_micros", 2, _FIELD.TYPE_MESSAGE, _INT64_VALUE),
            _field("max_enqueued_batches", 3, _FIELD.TYPE_MESSAGE, _INT64_VALUE),
            _field("num_batch_threads", 4, _FIELD.TYPE_MESSAGE, _INT64_VALUE),
            _field("thread_pool_name", 5, _FIELD.TYPE_MESSAGE, _STRING_VALUE),
            _field("allowed_batch_sizes", 6, _FIELD.TYPE_INT64, repeated=True),
            _field("pad_variable_length_inputs", 7, _FIELD.TYPE_BOOL),
            _field("enable_large_batch_splitting", 8, _FIELD.TYPE_MESSAGE, _BOOL_VALUE),
            _field("max_execution_batch_size", 9, _FIELD.TYPE_MESSAGE, _INT64_VALUE),
        ],
    )
    pool.Add(batching)

    # tensorflow_serving/config/monitoring_config.proto
    monitoring = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/config/monitoring_config.proto", package="tensorflow.serving", syntax="proto3"
    )
    monitoring.message_type.add(
        name="PrometheusConfig",
        field=[_field("enable", 1, _FIELD.TYPE_BOOL), _field("path", 2, _FIELD.TYPE_STRING)],
    )
    monitoring.message_type.add(
        name="MonitoringConfig",
        field=[_field("prometheus_config", 1, _FIELD.TYPE_MESSAGE, ".tensorflow.serving.PrometheusConfig")],
    )
    pool.Add(monitoring)

    # tensorflow_serving/config/ssl_config.proto: the PEM contents themselves, not file paths.
    ssl = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/config/ssl_config.proto", package="tensorflow.serving", syntax="proto3"
    )
    ssl.message_type.add(
        name="SSLConfig",
        field=[
            _field("server_key", 1, _FIELD.TYPE_STRING),
            _field("server_cert", 2, _FIELD.TYPE_STRING),
            _field("custom_ca", 3, _FIELD.TYPE_STRING),
            _field("client_verify", 4, _FIELD.TYPE_BOOL),
        ],
    )
    pool.Add(ssl)

    # grpc/health/v1/health.proto
    health = descriptor_pb2.FileDescriptorProto(
        name="grpc/health/v1/health.proto", package="grpc.health.v1", syntax="proto3"
    )
    health.message_type.add(name="HealthCheckRequest", field=[_field("service", 1, _FIELD.TYPE_STRING)])
    response = health.message_type.add(
        name="HealthCheckResponse",
        field=[_field("status", 1, _FIELD.TYPE_ENUM, ".grpc.health.v1.HealthCheckResponse.ServingStatus")],
    )
    serving_status = response.enum_type.add(name="ServingStatus")
    for number, name in enumerate(("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN")):
        serving_status.value.add(name=name, number=number)
    pool.Add(health)
    return pool


_POOL = _build_pool()


def _message_class(full_name: str):
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


BatchingParameters = _message_class("tensorflow.serving.BatchingParameters")
MonitoringConfig = _message_class("tensorflow.serving.MonitoringConfig")
SSLConfig = _message_class("tensorflow.serving.SSLConfig")
HealthCheckRequest = _message_class("grpc.health.v1.HealthCheckRequest")
HealthCheckResponse = _message_class("grpc.health.v1.HealthCheckResponse")
HEALTH_SERVICE_NAME = "grpc.health.v1.Health"
