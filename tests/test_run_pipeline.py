"""`electra-tf run`: pipeline files, and raw text to a served model end to end.

The end-to-end test runs a pipeline shaped like `pipelines/quickstart.yaml` (vocabulary, examples, a few
pretraining steps of a very small model, export, `electra-tf serve` in the background, `predict` on every
signature) as a separate process, then serves the export again and checks what the server answers to our
client and to the raw `tensorflow-serving-api` stubs against the SavedModel called in this process.
"""

import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from electra_tf.errors import InputError
from electra_tf.pipeline_runner import Pipeline, run_pipeline

PIPELINES = os.path.join(os.path.dirname(__file__), os.pardir, "pipelines")


def recorder(status=0):
    calls = []

    def run_command(argv):
        calls.append(argv)
        return status

    return calls, run_command


def test_quickstart_file_is_a_valid_pipeline_and_its_dry_run_names_every_step():
    pipeline = Pipeline.from_file(os.path.join(PIPELINES, "quickstart.yaml"))
    assert [step.name for step in pipeline.steps][:5] == ["corpus", "vocab", "prepare", "pretrain", "export"]
    lines = []
    assert run_pipeline(pipeline, overrides={"work": "/nonexistent/qs"}, dry_run=True, log=lines.append) == 0
    assert any("pretrain --data /nonexistent/qs/data" in line for line in lines)
    assert len([line for line in lines if line.startswith("[")]) == len(pipeline.steps)


@pytest.mark.parametrize("name", sorted(name for name in os.listdir(PIPELINES) if name.endswith(".yaml")))  # not configs/
def test_every_shipped_pipeline_parses_as_cli_commands(name, tmp_path):
    from electra_tf.cli.main import build_parser

    parser = build_parser()
    commands = []
    run_pipeline(Pipeline.from_file(os.path.join(PIPELINES, name)), overrides={"work": str(tmp_path)}, dry_run=True,
                 log=lambda line: commands.append(line.split(": electra-tf ", 1)[1]) if line.startswith("[") else None)
    assert commands
    for command in commands:  # every step is a valid command line (argparse exits on a bad one)
        assert parser.parse_args(shlex.split(command)).handler is not None


def test_steps_run_in_order_with_variables_and_creates_skips(tmp_path):
    (tmp_path / "done.txt").write_text("x")
    pipeline = Pipeline.from_dict({
        "variables": {"dir": str(tmp_path), "n": "3"},
        "steps": [
            {"name": "first", "command": "vocab {dir}/a.txt --size {n}", "creates": "{dir}/done.txt"},
            {"name": "second", "command": "prepare '{dir}/with space.txt' --seq-len {n}"},
            {"name": "third", "command": "export --version {n}"},
        ],
    })
    calls, run_command = recorder()
    assert run_pipeline(pipeline, overrides={"n": "7"}, run_command=run_command, log=lambda line: None) == 0
    assert calls == [["prepare", f"{tmp_path}/with space.txt", "--seq-len", "7"], ["export", "--version", "7"]]
    calls.clear()
    run_pipeline(pipeline, start_at="third", run_command=run_command, log=lambda line: None)
    assert calls == [["export", "--version", "3"]]


def test_a_failing_step_stops_the_pipeline_with_its_status():
    pipeline = Pipeline.from_dict({"steps": [{"command": "vocab x"}, {"command": "prepare y"}]})
    calls, run_command = recorder(status=2)
    lines = []
    assert run_pipeline(pipeline, run_command=run_command, log=lines.append) == 2
    assert calls == [["vocab", "x"]] and "failed with exit status 2" in lines[-1]


@pytest.mark.parametrize("data, message", [
    ({"steps": []}, "non-empty 'steps' list"),
    ({"steps": [{"name": "a"}]}, "step 1: expected a mapping with a 'command'"),
    ({"steps": [{"command": "x", "retries": 2}]}, r"unknown key\(s\) \['retries'\]"),
    ({"steps": [{"command": "serve", "background": True}]}, "needs 'ready_port'"),
    ({"steps": [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}]}, r"\['a'\] appear more than once"),
    ({"steps": [{"command": "x"}], "stages": []}, r"unknown top-level key\(s\) \['stages'\]"),
])
def test_malformed_pipelines_are_rejected_with_the_reason(data, message):
    with pytest.raises(InputError, match=message):
        Pipeline.from_dict(data)


def test_unknown_variables_steps_and_overrides_are_named():
    pipeline = Pipeline.from_dict({"variables": {"a": "1"}, "steps": [{"name": "s", "command": "vocab {b}"}]})
    with pytest.raises(InputError, match=r"step 's': unknown variable\(s\) \['b'\]; defined: \['a'\]"):
        run_pipeline(pipeline, run_command=lambda argv: 0, log=lambda line: None)
    with pytest.raises(InputError, match=r"--set names unknown variable\(s\) \['c'\]"):
        run_pipeline(pipeline, overrides={"c": "1"}, log=lambda line: None)
    with pytest.raises(InputError, match="--from 'nope' is not a step"):
        run_pipeline(pipeline, start_at="nope", log=lambda line: None)


def test_cli_reports_a_missing_pipeline_file_in_one_line(tmp_path):
    from electra_tf.cli.main import main

    assert main(["run", str(tmp_path / "missing.yaml")]) == 2


# --- End to end: raw text to a served model ---

SENTENCES = [
    "the cat sat on the mat .", "the dog ran in the park .", "a bird sang in the tree .",
    "the chef cooked a meal for the guests .", "we read a book about the sea .",
    "the river runs to the sea .", "she wrote a letter to her friend .", "the train left the station at noon .",
]


def write_corpus(path, documents=60, seed=0):
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as stream:
        for _ in range(documents):
            for index in rng.choice(len(SENTENCES), size=6):
                stream.write(SENTENCES[index] + "\n")
            stream.write("\n")


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    from electra_serving.testing import free_port

    work = tmp_path_factory.mktemp("pipeline")
    write_corpus(work / "corpus.txt")
    (work / "model.yaml").write_text(yaml.safe_dump(dict(
        num_layers=1, hidden_size=32, num_heads=2, intermediate_size=64, embedding_size=32, warmup_steps=1,
    )))
    port, rest_port = free_port(), free_port()
    (work / "pipeline.yaml").write_text(yaml.safe_dump({
        "variables": {"work": str(work), "port": str(port), "rest_port": str(rest_port)},
        "steps": [
            {"name": "vocab", "command": "vocab {work}/corpus.txt --size 200 --out {work}/vocab.txt",
             "creates": "{work}/vocab.txt"},
            {"name": "prepare", "command": "prepare {work}/corpus.txt --vocab {work}/vocab.txt --out {work}/data "
                                           "--seq-len 32 --shards 2"},
            {"name": "pretrain", "command": "pretrain --data {work}/data --out {work}/run --config {work}/model.yaml "
                                            "--steps 4 --batch-size 8 --checkpoint-every 2"},
            {"name": "export", "command": "export --model {work}/run/final --out {work}/saved_models/e2e --version 1",
             "creates": "{work}/saved_models/e2e/1"},
            {"name": "serve", "command": "serve --port {port} --rest_api_port {rest_port} --model_name e2e "
                                        "--model_base_path {work}/saved_models/e2e",
             "background": True, "ready_port": "{port}"},
            {"name": "score", "command": "predict --target 127.0.0.1:{port} --model e2e 'the cat sat on the mat .'"},
            {"name": "fill", "command": "predict --target 127.0.0.1:{port} --model e2e --signature fill_mask "
                                        "--top_k 2 'the [MASK] sat on the mat .'"},
            {"name": "encode", "command": "predict --target 127.0.0.1:{rest_port} --model e2e --signature encode "
                                          "--transport rest 'a bird sang .'"},
        ],
    }))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run([sys.executable, "-m", "electra_tf", "run", str(work / "pipeline.yaml")],
                               capture_output=True, text=True, env=env, timeout=600)
    return work, completed


def test_pipeline_goes_from_text_to_answers_from_the_served_model(pipeline_run):
    work, completed = pipeline_run
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    answers = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    score, fill, encode = answers
    assert score["tokens"] == ["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]
    assert len(score["replaced_probability"]) == 9 and all(0 < p < 1 for p in score["replaced_probability"])
    assert len(fill["masks"]) == 1 and len(fill["masks"][0]["tokens"]) == 2
    assert len(encode["pooled_output"]) == 32
    assert "stopped background step 'serve'" in completed.stdout
    # Running it again skips what exists, resumes the finished run and answers the same.
    again = subprocess.run([sys.executable, "-m", "electra_tf", "run", str(work / "pipeline.yaml")],
                           capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "skipped: " in again.stdout
    assert [json.loads(line) for line in again.stdout.splitlines() if line.startswith("{")][0] == score


def test_served_export_answers_raw_stubs_and_our_client_as_in_process(pipeline_run):
    import grpc
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the in-process reference needs the TF Text kernels)
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from electra_serving import Client
    from electra_serving.testing import free_port

    work, completed = pipeline_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    base = work / "saved_models" / "e2e"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "electra_tf", "serve", "--port", str(port), "--model_name", "e2e",
                               "--model_base_path", str(base)], env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        texts = ["the dog ran in the park .", "the [MASK] cooked a meal ."]
        loaded = tf.saved_model.load(str(base / "1"))
        with Client(f"127.0.0.1:{port}", "e2e", timeout=60) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    statuses = client.status()
                    break
                except Exception:
                    assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()[-3000:]
                    time.sleep(0.5)
            assert statuses[0].state == "AVAILABLE"
            for signature in ("replaced_token_detection", "fill_mask", "encode"):
                expected = {k: v.numpy() for k, v in loaded.signatures[signature](text=tf.constant(texts)).items()}
                request = predict_pb2.PredictRequest()
                request.model_spec.name, request.model_spec.signature_name = "e2e", signature
                request.inputs["text"].CopyFrom(tf.make_tensor_proto(texts))
                with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                    response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
                assert set(response.outputs) == set(expected)
                for key, value in expected.items():
                    served = tf.make_ndarray(response.outputs[key])
                    if value.dtype.kind in "fc":
                        np.testing.assert_allclose(served, value, rtol=1e-5, atol=1e-6)
                    else:
                        np.testing.assert_array_equal(served, value)
            scores = client.score(texts)
            reference = loaded.signatures["replaced_token_detection"](text=tf.constant(texts))
            np.testing.assert_allclose(scores[0].replaced_probability,
                                       reference["replaced_probability"].numpy()[0][:len(scores[0].tokens)], atol=1e-6)
    finally:
        server.terminate()
        server.wait(timeout=30)
