"""Unit tests of the serving package's pure parts: tensor protos, REST JSON, policies, batching, retries."""

import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.config import file_system_storage_path_source_pb2

from electra_serving import RetryPolicy, UnavailableError
from electra_serving.errors import InvalidArgumentError, error_for_code, error_for_http_status
from electra_serving.server import extra_protos
from electra_serving.server.batching import BatchingOptions, BatchScheduler, concat_padded
from electra_serving.server.json_tensors import inputs_from_json, json_to_array, outputs_to_json, parse_json
from electra_serving.server.metrics import MetricsRegistry
from electra_serving.server.servable import TensorInfo
from electra_serving.server.status import ServingStatus
from electra_serving.server.version_policy import aspired_versions
from electra_serving.tensor_proto import from_tensor_proto, to_tensor_proto


@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array([[1, 2]], np.int32), np.array([True, False]),
    np.array([1.5], np.float16), np.array([[b"a", b"\xff"]], dtype=object), np.array([7], np.int64),
])
def test_tensor_proto_round_trip_and_agrees_with_tensorflow(value):
    proto = to_tensor_proto(value)
    np.testing.assert_array_equal(from_tensor_proto(proto), value)
    np.testing.assert_array_equal(tf.make_ndarray(proto), value)
    np.testing.assert_array_equal(from_tensor_proto(tf.make_tensor_proto(value)), value)


def test_tensor_proto_short_form_and_errors():
    proto = tf.make_tensor_proto(0.5, shape=[2, 2])  # One value fills the tensor.
    np.testing.assert_array_equal(from_tensor_proto(proto), np.full([2, 2], 0.5, np.float32))
    proto = to_tensor_proto(np.zeros(3, np.float32))
    proto.tensor_content = proto.tensor_content[:-1]
    with pytest.raises(ValueError, match="tensor_content holds 11 bytes"):
        from_tensor_proto(proto)
    assert from_tensor_proto(to_tensor_proto(["é"]))[0] == "é".encode()


STRING_INPUT = {"text": TensorInfo("text", "t:0", "DT_STRING", (-1,))}
TWO_INPUTS = {"ids": TensorInfo("ids", "i:0", "DT_INT32", (-1, -1)), "scale": TensorInfo("scale", "s:0", "DT_FLOAT", (-1,))}


def test_json_row_and_columnar_inputs():
    arrays, row = inputs_from_json({"instances": [{"ids": [1, 2], "scale": 0.5}, {"ids": [3, 4], "scale": 1}]},
                                   TWO_INPUTS)
    assert row and arrays["ids"].dtype == np.int32 and arrays["ids"].tolist() == [[1, 2], [3, 4]]
    assert arrays["scale"].dtype == np.float32
    arrays, row = inputs_from_json({"inputs": {"ids": [[1]], "scale": [2.0]}}, TWO_INPUTS)
    assert not row and arrays["scale"].tolist() == [2.0]
    arrays, _ = inputs_from_json({"inputs": [{"b64": "/w=="}]}, STRING_INPUT)
    assert arrays["text"].tolist() == [b"\xff"]


@pytest.mark.parametrize("document, message", [
    ({"instances": [1, 2]}, "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1 "
     "Type: Number is not of expected type: string"),
    ({"instances": "a"}, "JSON Value: {\"instances\": \"a\"} Excepting 'instances' to be an list/array"),
    ({"instances": ["a"], "inputs": ["a"]}, "JSON Value: {\"instances\": [\"a\"], \"inputs\": [\"a\"]} Not formatted "
     "correctly expecting only one of 'inputs' or 'instances' keys to exist "),
    ({"inputs": [["a", "b"], ["c"]]}, "Encountered list at unexpected size: 1 at level: 1 expected size: 2"),
])
def test_json_errors_use_tf_serving_wording(document, message):
    with pytest.raises(ServingStatus) as raised:
        inputs_from_json(document, STRING_INPUT)
    assert raised.value.message == message


def test_json_scalar_checks():
    with pytest.raises(ServingStatus, match="Type: True is not of expected type: int32"):
        json_to_array([True], "DT_INT32")
    with pytest.raises(ServingStatus, match="to float without loss of precision"):
        json_to_array([16777217], "DT_FLOAT")
    with pytest.raises(ServingStatus, match="Type: Number is not of expected type: int32"):
        json_to_array([1.5], "DT_INT32")
    with pytest.raises(ServingStatus, match="JSON Parse error"):
        parse_json(b"{")


def test_outputs_to_json_formats():
    outputs = {"tokens": np.array([[b"a"], [b"\xff"]], dtype=object), "p": np.array([[0.5], [1.0]], np.float32)}
    row = outputs_to_json(outputs, row_format=True).decode()
    assert '"predictions": [{"tokens": ["a"], "p": [0.5]}, {"tokens": [{"b64": "/w=="}], "p": [1.0]}]' in row
    assert outputs_to_json({"p": outputs["p"]}, row_format=False).decode() == '{"outputs": [[0.5], [1.0]]}'


def test_version_policies():
    policy = file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy()
    assert aspired_versions(policy, [1, 5, 3]) == {5}
    text_format.Parse("specific { versions: 1 versions: 4 }", policy)
    assert aspired_versions(policy, [1, 3, 5]) == {1}
    policy = text_format.Parse("all {}", type(policy)())
    assert aspired_versions(policy, [1, 3]) == {1, 3}


def test_batching_parameters_text_format_and_validation():
    params = text_format.Parse("max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 8 "
                               "pad_variable_length_inputs: true", extra_protos.BatchingParameters())
    options = BatchingOptions.from_proto(params)
    assert (options.max_batch_size, options.allowed_batch_sizes, options.pad_variable_length_inputs) == (8, (4, 8), True)
    assert options.max_enqueued_batches == 10  # TF Serving's default when unset.
    with pytest.raises(ValueError, match=r"last entry in allowed_batch_sizes \(4\) must equal max_batch_size \(8\)"):
        BatchingOptions(max_batch_size=8, allowed_batch_sizes=(2, 4))


def test_batch_scheduler_pads_merges_and_splits():
    runs = []

    def run_batch(servable, signature, inputs, num_tasks, queuing_seconds):
        runs.append((num_tasks, inputs["ids"].shape))
        return {"ids": inputs["ids"] * 2}

    scheduler = BatchScheduler(BatchingOptions(max_batch_size=8, batch_timeout_micros=100_000, num_batch_threads=1,
                                               pad_variable_length_inputs=True, allowed_batch_sizes=(4, 8)), run_batch)
    try:
        servable = object.__new__(type("Servable", (), {}))
        futures = [scheduler.submit(servable, "sig", {"ids": np.ones((1, n), np.int32)}) for n in (1, 2, 3)]
        results = [future.result(timeout=10) for future in futures]
        assert runs == [(3, (4, 3))]  # One run: 3 tasks padded to length 3 and to the allowed size 4.
        assert [r["ids"].tolist() for r in results] == [[[2, 0, 0]], [[2, 2, 0]], [[2, 2, 2]]]
        with pytest.raises(ServingStatus, match="Task size 9 is larger than maximum input batch size 8"):
            scheduler.submit(servable, "sig", {"ids": np.ones((9, 1), np.int32)})
        with pytest.raises(ServingStatus, match="must have equal 0th-dimension size"):
            scheduler.submit(servable, "sig", {"ids": np.ones((2, 1)), "x": np.ones((3, 1))})
    finally:
        scheduler.stop()
    assert concat_padded([np.array([[b"a"]], dtype=object), np.array([[b"b", b"c"]], dtype=object)], pad=True
                         ).tolist() == [[b"a", b""], [b"b", b"c"]]


def test_retry_policy_backs_off_on_unavailable_only():
    calls = []

    def flaky():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise UnavailableError("restarting")
        return "ok"

    assert RetryPolicy(max_attempts=3, initial_backoff_s=0.01).call(flaky) == "ok" and len(calls) == 3
    with pytest.raises(InvalidArgumentError):
        RetryPolicy().call(lambda: (_ for _ in ()).throw(InvalidArgumentError("bad")))
    with pytest.raises(UnavailableError):
        RetryPolicy(max_attempts=2, initial_backoff_s=0.0).call(lambda: (_ for _ in ()).throw(UnavailableError("x")))


def test_error_types_and_metrics_rendering():
    assert type(error_for_code("NOT_FOUND", "m")).__name__ == "NotFoundError"
    assert error_for_http_status(503, "busy").code == "UNAVAILABLE"
    registry = MetricsRegistry()
    threads = [threading.Thread(target=lambda: registry.count_request("m", "s", "predict", "REST", "OK", 0.001))
               for _ in range(8)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    page = registry.render()
    assert ':tensorflow:serving:request_count{model_name="m",signature_name="s",API="predict",entrypoint="REST",' \
           'status="OK"} 8' in page
    assert ':tensorflow:serving:request_latency_count{model_name="m",signature_name="s",API="predict",' \
           'entrypoint="REST"} 8' in page
