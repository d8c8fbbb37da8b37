"""`electra-tf serve` end to end: every gRPC RPC and REST route against fixture SavedModels, compared with
in-process calls; TF Serving's status codes and messages for bad requests; the client; the predict CLI."""

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from electra_serving import Client, NotFoundError, signatures
from electra_serving.server import ModelServer, ServerOptions
from electra_serving.server.extra_protos import HEALTH_SERVICE_NAME, HealthCheckRequest, HealthCheckResponse
from electra_serving.testing import copy_version, free_port, save_text_model

TEXTS = ["the chef cooked the meal", "a [MASK] barked", "[MASK] b [MASK] d e f g"]
MODEL = "demo"


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("saved_models") / MODEL
    save_text_model(str(base), version=1)
    copy_version(str(base), 1, 2)
    return base


@pytest.fixture(scope="module")
def reference(model_base):
    """The latest version loaded in this process: the ground truth for every served answer."""
    return tf.saved_model.load(str(model_base / "2"))


@pytest.fixture(scope="module")
def server(model_base, tmp_path_factory):
    config_dir = tmp_path_factory.mktemp("config")
    monitoring = config_dir / "monitoring.config"
    monitoring.write_text('prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }')
    models = config_dir / "models.config"
    models.write_text(
        f'model_config_list {{ config {{ name: "{MODEL}" base_path: "{model_base}" model_platform: "tensorflow" '
        "model_version_policy { all {} } "
        'version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } } }'
    )
    options = ServerOptions(
        port=free_port(), rest_api_port=free_port(), model_config_file=str(models),
        monitoring_config_file=str(monitoring), file_system_poll_wait_seconds=0, max_request_bytes=2 * 1024 * 1024,
    )
    model_server = ModelServer(options)
    model_server.start()
    yield model_server
    model_server.stop()


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as grpc_channel:
        yield grpc_channel


@pytest.fixture(scope="module")
def prediction_stub(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def _rest(server, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}{path}", data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _predict_request(signature_name="", **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = signature_name
    for alias, value in inputs.items():
        request.inputs[alias].CopyFrom(tf.make_tensor_proto(value))
    return request


def _ids_inputs():
    return {
        signatures.INPUT_WORD_IDS: np.array([[2, 5, 1, 7], [3, 1, 0, 0]], np.int32),
        signatures.INPUT_MASK: np.array([[1, 1, 1, 1], [1, 1, 0, 0]], np.int32),
        signatures.INPUT_TYPE_IDS: np.zeros((2, 4), np.int32),
    }


@pytest.mark.parametrize("signature_name", [
    "", "replaced_token_detection", "fill_mask", "encode",
    "replaced_token_detection_ids", "fill_mask_ids", "encode_ids",
])
def test_grpc_predict_with_raw_stub_matches_in_process_call(prediction_stub, reference, signature_name):
    inputs = _ids_inputs() if signature_name.endswith("_ids") else {"text": np.array(TEXTS, dtype=object)}
    response = prediction_stub.Predict(_predict_request(signature_name, **inputs), timeout=30)
    expected = reference.signatures[signature_name or "serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})
    assert response.model_spec.name == MODEL and response.model_spec.version.value == 2
    assert response.model_spec.signature_name == (signature_name or "serving_default")
    assert sorted(response.outputs) == sorted(expected)
    for alias, tensor in expected.items():
        served = tf.make_ndarray(response.outputs[alias])
        if tensor.dtype == tf.string:
            np.testing.assert_array_equal(served, tensor.numpy())
        else:
            np.testing.assert_allclose(served, tensor.numpy(), rtol=1e-5, atol=1e-6)


def test_grpc_output_filter_and_version_and_label(prediction_stub):
    request = _predict_request("fill_mask", text=np.array(TEXTS, dtype=object))
    request.output_filter.append("top_tokens")
    request.model_spec.version_label = "stable"
    response = prediction_stub.Predict(request, timeout=30)
    assert list(response.outputs) == ["top_tokens"] and response.model_spec.version.value == 1
    request.model_spec.version.value = 2
    assert prediction_stub.Predict(request, timeout=30).model_spec.version.value == 2


def test_rest_predict_row_and_columnar_formats(server, reference):
    expected = reference.signatures["fill_mask"](text=tf.constant(TEXTS))
    status, rows = _rest(server, f"/v1/models/{MODEL}:predict", {"signature_name": "fill_mask", "instances": TEXTS})
    assert status == 200 and len(rows["predictions"]) == len(TEXTS)
    assert rows["predictions"][0]["top_tokens"] == [[t.decode() for t in m] for m in expected["top_tokens"].numpy()[0]]
    status, columns = _rest(server, f"/v1/models/{MODEL}/labels/canary:predict",
                            {"signature_name": "fill_mask", "inputs": {"text": TEXTS}})
    assert status == 200
    np.testing.assert_allclose(columns["outputs"]["top_probabilities"], expected["top_probabilities"].numpy(), rtol=1e-5)
    status, ids = _rest(server, f"/v1/models/{MODEL}/versions/1:predict",
                        {"signature_name": "encode_ids", "inputs": {k: v.tolist() for k, v in _ids_inputs().items()}})
    assert status == 200 and np.asarray(ids["outputs"]["sequence_output"]).shape == (2, 4, 16)
    # Binary strings as {"b64": ...}: the same answer as plain UTF-8 text.
    b64 = [{"b64": base64.b64encode(t.encode()).decode()} for t in TEXTS]
    _, from_b64 = _rest(server, f"/v1/models/{MODEL}:predict", {"signature_name": "fill_mask", "instances": b64})
    assert from_b64 == rows


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_client_methods_match_in_process(server, reference, transport):
    port = server.grpc_port if transport == "grpc" else server.rest_port
    with Client(f"127.0.0.1:{port}", MODEL, transport=transport, max_batch_size=2) as client:  # 3 texts: 2 calls
        scores = client.score(TEXTS)
        expected = reference.signatures["serving_default"](text=tf.constant(TEXTS))
        assert scores[0].tokens == TEXTS[0].split()
        np.testing.assert_allclose(scores[2].replaced_probability,
                                   expected["replaced_probability"].numpy()[2, : len(TEXTS[2].split())], rtol=1e-5)
        fills = client.fill_mask(TEXTS, top_k=3)
        assert [len(f) for f in fills] == [0, 1, 2] and len(fills[2][1].tokens) == 3
        expected_fill = reference.signatures["fill_mask"](text=tf.constant(TEXTS[1:2]))
        assert fills[1][0].tokens == [t.decode() for t in expected_fill["top_tokens"].numpy()[0, 0, :3]]
        encoding = client.encode(TEXTS)
        expected_encoding = reference.signatures["encode"](text=tf.constant(TEXTS))
        np.testing.assert_allclose(encoding.pooled_output, expected_encoding["pooled_output"].numpy(), rtol=1e-4,
                                   atol=1e-5)
        assert encoding.sequence_output.shape == expected_encoding["sequence_output"].shape
        ids = client.predict({k: v.tolist() for k, v in _ids_inputs().items()}, "replaced_token_detection_ids")
        assert ids["replaced_probability"].dtype == np.float32 and ids["tokens"].dtype == object
        assert [s.version for s in client.status()] == [1, 2]
        assert sorted(client.metadata().signatures) == sorted([*reference.signatures, "__saved_model_init_op"])
        with pytest.raises(NotFoundError, match=r"Servable not found for request: Latest\(nope\)"):
            Client(f"127.0.0.1:{port}", "nope", transport=transport).score(["a"])


def test_metadata_grpc_and_rest_report_the_saved_signature_defs(server, prediction_stub, model_base):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = MODEL
    response = prediction_stub.GetModelMetadata(request, timeout=30)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    saved = tf.saved_model.load(str(model_base / "2"))
    assert set(saved.signatures) <= set(signature_map.signature_def)
    fill = signature_map.signature_def["fill_mask"]
    assert fill.inputs["text"].dtype == tf.string.as_datatype_enum
    assert sorted(fill.outputs) == ["top_ids", "top_probabilities", "top_tokens"]
    status, document = _rest(server, f"/v1/models/{MODEL}/versions/1/metadata")
    assert status == 200 and document["model_spec"]["version"] == "1"
    assert document["metadata"]["signature_def"]["signature_def"]["fill_mask"]["inputs"]["text"]["dtype"] == "DT_STRING"


def test_status_grpc_and_rest(server, channel):
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL
    versions = stub.GetModelStatus(request, timeout=30).model_version_status
    assert [(v.version, v.state) for v in versions] == [(1, 30), (2, 30)]  # 30 = AVAILABLE
    status, document = _rest(server, f"/v1/models/{MODEL}")
    assert status == 200
    assert document["model_version_status"][0] == {
        "version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert _rest(server, f"/v1/models/{MODEL}/versions/9") == (404, {"error": f"Could not find version 9 of model {MODEL}"})
    assert _rest(server, "/v1/models/nope") == (404, {"error": "Could not find any versions of model nope"})


def _with_extra_input(request):
    request.inputs["extra"].CopyFrom(tf.make_tensor_proto([1.0]))


def _with_float_text(request):
    request.inputs["text"].CopyFrom(tf.make_tensor_proto([1.0, 2.0]))


def _with_broken_tensor(request):
    request.inputs["text"].string_val.append(b"one value more than the shape holds")


BAD_GRPC_REQUESTS = [
    (lambda r: setattr(r.model_spec, "name", "nope"), "NOT_FOUND", "Servable not found for request: Latest(nope)"),
    (lambda r: r.model_spec.version.__setattr__("value", 7), "NOT_FOUND",
     f"Servable not found for request: Specific({MODEL}, 7)"),
    (lambda r: setattr(r.model_spec, "version_label", "beta"), "INVALID_ARGUMENT",
     "Unrecognized servable version label: beta"),
    (lambda r: r.ClearField("model_spec"), "INVALID_ARGUMENT", "Missing ModelSpec"),
    (lambda r: setattr(r.model_spec, "signature_name", "x"), "FAILED_PRECONDITION",
     'Serving signature key "x" not found.'),
    (_with_extra_input, "INVALID_ARGUMENT",
     "input size does not match signature: 2!=1 len({extra,text}) != len({text}). Sent extra: {extra}. "
     "Missing but required: {}."),
    (lambda r: r.inputs.pop("text"), "INVALID_ARGUMENT",
     "input size does not match signature: 0!=1 len({}) != len({text}). Sent extra: {}. Missing but required: {text}."),
    (_with_float_text, "INVALID_ARGUMENT", "Expects arg[0] to be string but float is provided"),
    (_with_broken_tensor, "INVALID_ARGUMENT", "tensor parsing error: text"),
    (lambda r: r.output_filter.append("nope"), "INVALID_ARGUMENT",
     "output tensor alias not found in signature: nope Outputs expected to be in the set "
     "{input_mask,replaced_probability,tokens}."),
    (lambda r: r.output_filter.extend(["tokens", "tokens"]), "INVALID_ARGUMENT", "duplicate output tensor alias: tokens"),
    (lambda r: r.inputs["text"].CopyFrom(tf.make_tensor_proto(np.zeros([0], dtype=object), dtype=tf.string)),
     "INVALID_ARGUMENT", "Input text is an empty batch (shape [0]); send at least one row."),
    (lambda r: r.inputs["text"].CopyFrom(tf.make_tensor_proto([["a"]])), "INVALID_ARGUMENT",
     "Input text has shape [1,1] but the signature expects [-1] (-1 = any size)."),
]


@pytest.mark.parametrize("mutate, code, message", BAD_GRPC_REQUESTS)
def test_bad_grpc_requests_get_tf_serving_code_and_message(prediction_stub, mutate, code, message):
    request = _predict_request(text=np.array(TEXTS, dtype=object))
    mutate(request)
    with pytest.raises(grpc.RpcError) as raised:
        prediction_stub.Predict(request, timeout=30)
    assert raised.value.code().name == code
    assert raised.value.details() == message
    good = prediction_stub.Predict(_predict_request(text=np.array(TEXTS, dtype=object)), timeout=30)
    assert good.outputs["tokens"].tensor_shape.dim[0].size == len(TEXTS)  # The server keeps serving.


def test_bad_metadata_requests(prediction_stub):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    with pytest.raises(grpc.RpcError) as raised:
        prediction_stub.GetModelMetadata(request, timeout=30)
    assert (raised.value.code(), raised.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["graph"])
    request.model_spec.name = MODEL
    with pytest.raises(grpc.RpcError) as raised:
        prediction_stub.GetModelMetadata(request, timeout=30)
    assert raised.value.details() == "Metadata field graph is not supported"


BAD_REST_REQUESTS = [
    (f"/v1/models/nope:predict", {"instances": ["a"]}, None, 404, "Servable not found for request: Latest(nope)"),
    (f"/v1/models/{MODEL}/labels/beta:predict", {"instances": ["a"]}, None, 400,
     "Unrecognized servable version label: beta"),
    (f"/v1/models/{MODEL}/versions/7:predict", {"instances": ["a"]}, None, 404,
     f"Servable not found for request: Specific({MODEL}, 7)"),
    (f"/v1/models/{MODEL}:predict", {"signature_name": "x", "instances": ["a"]}, None, 400,
     'Serving signature name: "x" not found in signature def'),
    (f"/v1/models/{MODEL}:predict", {"instances": []}, None, 400, 'JSON Value: {"instances": []} No values in '
     "'instances' array"),
    (f"/v1/models/{MODEL}:predict", {"inputs": {"text": []}}, None, 400,
     "Input text is an empty batch (shape [0]); send at least one row."),
    (f"/v1/models/{MODEL}:predict", {"signature": "x"}, None, 400, "Missing 'inputs' or 'instances' key"),
    (f"/v1/models/{MODEL}:predict", {"instances": [1.5]}, None, 400,
     "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1.5 Type: Number is "
     "not of expected type: string"),
    (f"/v1/models/{MODEL}:predict", {"signature_name": "encode_ids", "inputs": {"input_word_ids": [[1]]}}, None,
     400, "Missing named input: input_mask in 'inputs' object."),
    (f"/v1/models/{MODEL}:predict", None, b"", 400, "JSON Parse error: The document is empty"),
    (f"/v1/models/{MODEL}:predict", None, b'{"instances": [', 400, None),
    (f"/v1/models/{MODEL}:predict", None, b'{"instances": ["caf\xe9"]}', 400,
     "JSON Parse error: Invalid encoding in string. at offset: 19"),
    (f"/v1/models/{MODEL}:predict", None, b"[1]", 400, "JSON Value: [1] Is not object"),
    (f"/v1/models/{MODEL}:predict", None, b"x" * (3 * 1024 * 1024), 413,
     "Request body of 3145728 bytes exceeds the server's limit of 2097152 bytes (--max_request_bytes)."),
    (f"/v1/models/{MODEL}:regress", {"examples": []}, None, 501, None),
    ("/v1/nonsense", {"instances": ["a"]}, None, 400, "Malformed request: POST /v1/nonsense"),
]


@pytest.mark.parametrize("path, body, raw, http_status, message", BAD_REST_REQUESTS)
def test_bad_rest_requests_get_tf_serving_status_and_message(server, path, body, raw, http_status, message):
    status, document = _rest(server, path, body, raw)
    assert status == http_status
    if message is not None:
        assert document == {"error": message}
    else:
        assert document["error"]
    good_status, good = _rest(server, f"/v1/models/{MODEL}:predict", {"instances": TEXTS})
    assert good_status == 200 and len(good["predictions"]) == len(TEXTS)


def test_one_megabyte_string_is_served_and_an_oversized_grpc_message_is_refused(server, prediction_stub):
    megabyte_text = ("word " * 210_000)[: 1024 * 1024]
    response = prediction_stub.Predict(_predict_request(text=np.array([megabyte_text], dtype=object)), timeout=60)
    assert response.outputs["tokens"].tensor_shape.dim[1].size == 32  # The model truncates to its length.
    with pytest.raises(grpc.RpcError) as raised:
        prediction_stub.Predict(_predict_request(text=np.array([megabyte_text] * 3, dtype=object)), timeout=60)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in raised.value.details()
    assert prediction_stub.Predict(_predict_request(text=np.array(TEXTS, dtype=object)), timeout=30).outputs


def test_health_service(channel):
    check = channel.unary_unary(f"/{HEALTH_SERVICE_NAME}/Check", request_serializer=HealthCheckRequest.SerializeToString,
                                response_deserializer=HealthCheckResponse.FromString)
    assert HealthCheckResponse.ServingStatus.Name(check(HealthCheckRequest(), timeout=10).status) == "SERVING"
    response = check(HealthCheckRequest(service="tensorflow.serving.PredictionService"), timeout=10)
    assert HealthCheckResponse.ServingStatus.Name(response.status) == "SERVING"
    with pytest.raises(grpc.RpcError) as raised:
        check(HealthCheckRequest(service="nope"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_prometheus_metrics_count_requests_by_model_signature_and_status(server, prediction_stub):
    prediction_stub.Predict(_predict_request("encode", text=np.array(["x"], dtype=object)), timeout=30)
    with pytest.raises(grpc.RpcError):  # this test's own failed request (it must pass alone, in any order)
        prediction_stub.Predict(_predict_request("no_such_signature", text=np.array(["x"], dtype=object)), timeout=30)
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics") as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        page = response.read().decode()
    assert "# TYPE :tensorflow:serving:request_count counter" in page
    assert (f':tensorflow:serving:request_count{{model_name="{MODEL}",signature_name="encode",API="predict",'
            'entrypoint="GRPC",status="OK"}') in page
    assert (f':tensorflow:serving:request_count{{model_name="{MODEL}",signature_name="no_such_signature",'
            'API="predict",entrypoint="GRPC",status="FAILED_PRECONDITION"}') in page
    assert ":tensorflow:serving:runtime_latency_count" in page


def test_reload_config_rpc(server, channel, model_base, tmp_path):
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    second_base = tmp_path / "second"
    shutil.copytree(model_base / "1", second_base / "3")

    def config(text):
        request = model_management_pb2.ReloadConfigRequest()
        text_format.Parse(text, request.config)
        return request

    two_models = (
        f'model_config_list {{ config {{ name: "{MODEL}" base_path: "{model_base}" model_platform: "tensorflow" '
        'model_version_policy { all {} } version_labels { key: "stable" value: 1 } } '
        f'config {{ name: "second" base_path: "{second_base}" model_platform: "tensorflow" }} }}'
    )
    assert stub.HandleReloadConfigRequest(config(two_models), timeout=120).status.error_code == 0
    with Client(f"127.0.0.1:{server.grpc_port}", "second", timeout=60) as client:
        assert [s.version for s in client.status()] == [3]
        assert len(client.score(["a b"])[0].tokens) == 2
    with pytest.raises(grpc.RpcError) as raised:
        stub.HandleReloadConfigRequest(config(two_models.replace("value: 1", "value: 9")), timeout=60)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert raised.value.details() == (f"Request to assign label to version 9 of model {MODEL}, which is not currently "
                                      "available for inference")
    with pytest.raises(grpc.RpcError) as raised:
        stub.HandleReloadConfigRequest(config('model_config_list { config { name: "x" base_path: "rel/path" } }'),
                                       timeout=60)
    assert raised.value.details() == 'Expected model x to have an absolute path or URI; got base_path()=rel/path'
    with Client(f"127.0.0.1:{server.grpc_port}", MODEL, label="stable") as client:  # Old config still in force.
        assert client.metadata().version == 1
    original = two_models.split(" config { name: \"second\"")[0] + " }"
    original = original.replace('version_labels { key: "stable" value: 1 }',
                                'version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 }')
    stub.HandleReloadConfigRequest(config(original), timeout=60)
    with Client(f"127.0.0.1:{server.grpc_port}", "second", timeout=60) as client:
        assert [(s.version, s.state) for s in client.status()] == [(3, "END")]  # Unloaded, as TF Serving reports.
        with pytest.raises(NotFoundError, match=r"Latest\(second\)"):
            client.score(["a b"])


def test_predict_cli_prints_one_json_object_per_text(server, capsys):
    from electra_tf.cli.main import main

    status = main(["predict", "--target", f"127.0.0.1:{server.grpc_port}", "--model", MODEL,
                   "--signature", "fill_mask", "--top_k", "2", *TEXTS])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0 and [line["text"] for line in lines] == TEXTS
    assert [len(line["masks"]) for line in lines] == [0, 1, 2] and len(lines[1]["masks"][0]["tokens"]) == 2
    status = main(["predict", "--target", f"127.0.0.1:{server.rest_port}", "--transport", "rest", "--model", "nope",
                   "x"])
    assert status == 2 and "NOT_FOUND" in capsys.readouterr().err


def test_client_package_imports_without_tensorflow():
    code = ("import sys, electra_serving, electra_serving.rest_transport; "
            "assert not any(m == 'tensorflow' or m.startswith('tensorflow.') for m in sys.modules), 'tensorflow'")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
