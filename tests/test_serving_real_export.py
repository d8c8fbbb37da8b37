"""The serving stack on a REAL export (`export_saved_model`: TF Text tokenization in the graph, [CLS]/[SEP],
padding to the batch's bucket), not the whitespace stand-in of `electra_serving.testing`: the REST formats and
errors, the client's parsing, server-side batching and a version swap under load.

One random-weight tiny model and one export per module (seconds); answers are compared with the same export
called in-process and with the in-process Tokenizer.
"""

import base64
import concurrent.futures
import json
import shutil
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import tensorflow as tf

from electra_serving import Client
from electra_serving.server import ModelServer, ServerOptions
from electra_serving.testing import copy_version, free_port
from export_test_model import make_model_dir, write_vocab

MODEL = "electra"
TOP_K = 3
# Lengths 3 to 12 tokens: every batch pads some rows; "unable" and "cats" are two WordPieces each.
TEXTS = ["the cat sat", "Hello, world! the big red dog ran fast", "a [MASK] sat on the mat .",
         "unable cats [MASK] [MASK]"]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    from electra_tf.export.saved_model_export import export_model_dir
    from electra_tf.tokenization import Tokenizer

    folder = tmp_path_factory.mktemp("real_export")
    model_dir, _ = make_model_dir(folder / "model")
    base = folder / "saved_models" / MODEL
    result = export_model_dir(model_dir, base, top_k=TOP_K)
    tokenizer = Tokenizer(write_vocab(folder / "reference"))
    return {"base": base, "path": result.path, "loaded": tf.saved_model.load(result.path), "tokenizer": tokenizer}


@pytest.fixture(scope="module")
def server(export, tmp_path_factory):
    config_dir = tmp_path_factory.mktemp("real_export_config")
    batching = config_dir / "batching.config"
    batching.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 50000 } "
                        "num_batch_threads { value: 1 } max_enqueued_batches { value: 16 }")
    monitoring = config_dir / "monitoring.config"
    monitoring.write_text("prometheus_config { enable: true }")
    model_server = ModelServer(ServerOptions(
        port=free_port(), rest_api_port=free_port(), model_name=MODEL, model_base_path=str(export["base"]),
        enable_batching=True, batching_parameters_file=str(batching), monitoring_config_file=str(monitoring),
        file_system_poll_wait_seconds=0,
    ))
    model_server.start()
    yield model_server
    model_server.stop()


def _in_process(export, signature, texts):
    outputs = export["loaded"].signatures[signature](text=tf.constant(texts))
    return {key: value.numpy() for key, value in outputs.items()}


def _wordpieces(export, text):
    tokenizer = export["tokenizer"]
    return [t.decode() for t in tokenizer.id_to_token(tokenizer([text])).to_list()[0]]


def _rest(server, path, body=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}{path}", data=data)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_export_is_real_tf_text_with_cls_sep_and_padding(export):
    expected = _in_process(export, "serving_default", TEXTS)
    lengths = expected["input_mask"].sum(axis=1)
    assert len(set(lengths.tolist())) >= 3 and (expected["input_mask"] == 0).any()  # rows of several lengths, padded
    for row, text in enumerate(TEXTS):
        tokens = [t.decode() for t in expected["tokens"][row][: lengths[row]]]
        assert tokens == ["[CLS]", *_wordpieces(export, text), "[SEP]"]
    assert "##able" in _wordpieces(export, TEXTS[3])


def test_rest_row_and_columnar_formats(server, export):
    expected = _in_process(export, "serving_default", TEXTS)
    status, rows = _rest(server, f"/v1/models/{MODEL}:predict", {"instances": TEXTS})
    assert status == 200 and len(rows["predictions"]) == len(TEXTS)
    for row, prediction in enumerate(rows["predictions"]):
        assert prediction["tokens"] == [t.decode() for t in expected["tokens"][row]]
        assert prediction["input_mask"] == expected["input_mask"][row].tolist()
        np.testing.assert_allclose(prediction["replaced_probability"], expected["replaced_probability"][row],
                                   rtol=1e-5, atol=1e-6)
    status, columns = _rest(server, f"/v1/models/{MODEL}/versions/1:predict",
                            {"signature_name": "fill_mask", "inputs": {"text": TEXTS}})
    fill = _in_process(export, "fill_mask", TEXTS)
    assert status == 200 and sorted(columns["outputs"]) == sorted(fill)
    assert columns["outputs"]["top_tokens"] == [[[t.decode() for t in k] for k in m] for m in fill["top_tokens"]]
    np.testing.assert_allclose(columns["outputs"]["top_probabilities"], fill["top_probabilities"], rtol=1e-5,
                               atol=1e-6)
    b64 = [{"b64": base64.b64encode(t.encode()).decode()} for t in TEXTS]
    assert _rest(server, f"/v1/models/{MODEL}:predict", {"instances": b64}) == (200, rows)


@pytest.mark.parametrize("body, message", [
    ({"signature_name": "x", "instances": ["a"]}, 'Serving signature name: "x" not found in signature def'),
    ({"instances": [1.5]}, "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "
                           "1.5 Type: Number is not of expected type: string"),
    ({"signature_name": "encode_ids", "inputs": {"input_word_ids": [[2, 3]]}},
     "Missing named input: input_mask in 'inputs' object."),
    ({"inputs": {"text": []}}, "Input text is an empty batch (shape [0]); send at least one row."),
    ({"instances": []}, 'JSON Value: {"instances": []} No values in \'instances\' array'),
])
def test_rest_errors(server, body, message):
    assert _rest(server, f"/v1/models/{MODEL}:predict", body) == (400, {"error": message})
    status, good = _rest(server, f"/v1/models/{MODEL}:predict", {"instances": TEXTS[:1]})
    assert status == 200 and good["predictions"][0]["tokens"][0] == "[CLS]"


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_client_parses_real_outputs(server, export, transport):
    port = server.grpc_port if transport == "grpc" else server.rest_port
    with Client(f"127.0.0.1:{port}", MODEL, transport=transport, timeout=60) as client:
        scores = client.score(TEXTS)
        assert len(scores) == len(TEXTS)
        for text, score in zip(TEXTS, scores, strict=True):
            assert score.tokens == ["[CLS]", *_wordpieces(export, text), "[SEP]"]
            alone = _in_process(export, "serving_default", [text])["replaced_probability"][0]
            np.testing.assert_allclose(score.replaced_probability, alone[: len(score.tokens)], rtol=1e-4, atol=1e-5)
        fills = client.fill_mask(TEXTS, top_k=TOP_K)
        assert [len(f) for f in fills] == [text.count("[MASK]") for text in TEXTS] == [0, 0, 1, 2]
        expected = _in_process(export, "fill_mask", TEXTS[2:3])
        assert fills[2][0].tokens == [t.decode() for t in expected["top_tokens"][0, 0]]
        encoding = client.encode(TEXTS)
        assert encoding.pooled_output.shape == (len(TEXTS), 32)
        np.testing.assert_allclose(encoding.pooled_output, _in_process(export, "encode", TEXTS)["pooled_output"],
                                   rtol=1e-4, atol=1e-5)


def test_batching_merges_concurrent_requests(server, export):
    texts = [f"the {word} sat on the mat" + " big" * (i % 4) for i, word in enumerate(["cat", "dog", "tree"] * 6)]
    with Client(f"127.0.0.1:{server.grpc_port}", MODEL, timeout=60) as client:
        client.metadata()
        runs_before = _run_count(server)
        with concurrent.futures.ThreadPoolExecutor(len(texts)) as pool:
            results = list(pool.map(lambda text: client.score([text])[0], texts))
        runs = _run_count(server) - runs_before
    assert runs < len(texts) / 2, f"{len(texts)} requests ran the model {runs} times"
    assert len(results) == len(texts)
    for text, result in zip(texts, results, strict=True):  # padded to the merged batch's bucket: same answers
        assert result.tokens == ["[CLS]", *_wordpieces(export, text), "[SEP]"]
        alone = _in_process(export, "serving_default", [text])["replaced_probability"][0]
        np.testing.assert_allclose(result.replaced_probability, alone[: len(result.tokens)], rtol=1e-4, atol=1e-5)


def _run_count(server) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics") as response:
        page = response.read().decode()
    return int(sum(float(line.split()[-1]) for line in page.splitlines()
                   if line.startswith(":tensorflow:serving:runtime_latency_count")))


def test_version_swap_under_load_has_zero_failures(export, tmp_path):
    base = tmp_path / MODEL
    shutil.copytree(export["path"], base / "1")
    swap_server = ModelServer(ServerOptions(port=free_port(), model_name=MODEL, model_base_path=str(base),
                                            file_system_poll_wait_seconds=1))
    swap_server.start()
    failures, versions = [], []

    def client_loop(worker: int):
        with Client(f"127.0.0.1:{swap_server.grpc_port}", MODEL, timeout=60) as client:
            for i in range(40):
                try:
                    score = client.score([f"the cat {worker} sat {i}"])[0]
                    versions.append(client.metadata().version)
                    assert score.tokens[0] == "[CLS]" and score.tokens[-1] == "[SEP]"
                except Exception as error:  # Counted, not raised: the assertion reports them all.
                    failures.append(repr(error))

    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            workers = [pool.submit(client_loop, w) for w in range(4)]
            time.sleep(0.5)
            copy_version(str(base), 1, 2)
            for worker in workers:
                worker.result()
        assert failures == []
        assert len(versions) == 160 and versions[0] == 1
        deadline = time.time() + 30
        while swap_server.manager.servable(MODEL).version != 2 and time.time() < deadline:
            time.sleep(0.2)
        assert swap_server.manager.servable(MODEL).version == 2
    finally:
        swap_server.stop()
