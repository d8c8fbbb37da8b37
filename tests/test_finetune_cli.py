"""`electra-tf finetune`, `evaluate` and `infer` end to end on toy files: outputs, resume, bad input, HF source."""

import json
import os

import h5py
import numpy as np
import pytest

from electra_tf.cli.main import main
from finetune_helpers import VOCAB, keyword_rows, write_conll, write_model_dir, write_squad, write_tsv

COMMON = ["--seq-length", "16", "--batch-size", "8", "--learning-rate", "2e-3", "--log-every", "2"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("finetune")
    return {
        "root": root,
        "model": write_model_dir(root / "pre"),
        "train": write_tsv(root / "train.tsv", keyword_rows(32, seed=1)),
        "dev": write_tsv(root / "dev.tsv", keyword_rows(16, seed=2)),
    }


def _finetune_args(toy, out, *extra):
    return ["finetune", "--task", "classification", "--model", toy["model"], "--train", toy["train"],
            "--validation", toy["dev"], "--out", str(out), "--text-column", "sentence", "--label-column", "label",
            "--epochs", "2", "--checkpoint-every", "2", *COMMON, *extra]


@pytest.fixture(scope="module")
def finished(toy):
    out = toy["root"] / "out"
    assert main(_finetune_args(toy, out)) == 0
    return out


def _weights(path):
    values = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: values.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return values


def test_finetune_writes_a_model_directory_with_reports(finished, capsys):
    names = set(os.listdir(finished))
    assert {"config.json", "task.json", "task_model.weights.h5", "vocab.txt", "tokenizer.json", "metrics.json",
            "history.jsonl", "validation_predictions.jsonl", "logs"} <= names
    assert not {"checkpoints", "options.json"} & names  # run state is not part of the model directory
    assert not os.path.exists(os.path.join(os.path.dirname(finished), ".out.partial"))
    task = json.loads((finished / "task.json").read_text())
    assert task["task"] == "classification" and task["labels"] == ["neg", "pos"] and task["seq_length"] == 16
    metrics = json.loads((finished / "metrics.json").read_text())
    assert metrics["task"] == "classification" and metrics["metric"] == "accuracy"
    assert [entry["epoch"] for entry in metrics["epochs"]] == [1, 2]
    assert [entry["step"] for entry in metrics["epochs"]] == [4, 8]  # 32 examples / batch 8
    best = max(metrics["epochs"], key=lambda entry: entry["accuracy"])
    assert metrics["best"]["accuracy"] == best["accuracy"]
    history = [json.loads(line) for line in (finished / "history.jsonl").read_text().splitlines()]
    train = [line for line in history if line["split"] == "train"]
    assert [line["step"] for line in train] == [2, 4, 6, 8]
    assert {"loss", "accuracy", "learning_rate", "examples_per_second", "time"} <= set(train[0])
    assert [line["step"] for line in history if line["split"] == "validation"] == [4, 8]
    assert any(name.startswith("events") for name in os.listdir(finished / "logs" / "train"))
    predictions = [json.loads(line) for line in (finished / "validation_predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 16 and {"label", "probabilities", "gold", "text"} <= set(predictions[0])


def test_evaluate_prints_metrics_and_a_json_last_line(finished, toy, capsys, tmp_path):
    capsys.readouterr()
    predictions = tmp_path / "predictions.jsonl"
    assert main(["evaluate", "--model", str(finished), "--data", toy["dev"], "--predictions", str(predictions)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    best = json.loads((finished / "metrics.json").read_text())["best"]
    assert result["accuracy"] == pytest.approx(best["accuracy"])  # the kept weights are the best epoch's
    assert {"accuracy", "f1", "mcc"} <= set(result) and result["examples"] == 16
    assert lines[0].startswith("accuracy ")
    assert len(predictions.read_text().splitlines()) == 16


def test_infer_texts_as_json(finished, capsys):
    capsys.readouterr()
    assert main(["infer", "--model", str(finished), "--text", "good w1 w2", "--text", "w3 bad", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [record["text"] for record in records] == ["good w1 w2", "w3 bad"]
    for record in records:
        assert record["label"] in ("neg", "pos")
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_resume_after_interruption_matches_an_uninterrupted_run(finished, toy):
    out = toy["root"] / "resumed"
    assert main(_finetune_args(toy, out, "--stop-after-steps", "3")) == 130  # as if killed after step 3
    assert not out.exists()  # nothing half-written at OUT
    assert (toy["root"] / ".resumed.partial" / "checkpoints").is_dir()
    assert main(_finetune_args(toy, out)) == 0  # the same command resumes (from the checkpoint of step 2)
    expected, actual = _weights(finished / "task_model.weights.h5"), _weights(out / "task_model.weights.h5")
    assert sorted(actual) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], atol=1e-6, err_msg=name)
    epochs = json.loads((out / "metrics.json").read_text())["epochs"]
    assert epochs == json.loads((finished / "metrics.json").read_text())["epochs"]
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    for split, expected_steps in (("train", [2, 4, 6, 8]), ("validation", [4, 8])):  # none repeated after resuming
        assert [line["step"] for line in history if line["split"] == split] == expected_steps


@pytest.mark.parametrize("case", ["unknown_label", "empty_train", "missing_column", "one_label", "seq_too_long",
                                  "no_model"])
def test_bad_input_exits_2_with_one_line_and_no_out(case, toy, tmp_path, capsys):
    out = tmp_path / "out"
    train, dev, extra = toy["train"], toy["dev"], []
    if case == "unknown_label":
        dev = write_tsv(tmp_path / "dev.tsv", [("good w1", "pos"), ("w2 bad", "maybe")])
    elif case == "empty_train":
        train = str(tmp_path / "empty.tsv")
        open(train, "w").close()
    elif case == "missing_column":
        extra = ["--text-column", "text"]
    elif case == "one_label":
        train = write_tsv(tmp_path / "one.tsv", [("good w1", "pos"), ("w2 fine", "pos")])
    elif case == "seq_too_long":
        extra = ["--seq-length", "4096"]
    args = ["finetune", "--task", "classification", "--model", toy["model"] if case != "no_model" else str(tmp_path),
            "--train", train, "--validation", dev, "--out", str(out), "--text-column", "sentence",
            "--label-column", "label", "--epochs", "1", *extra]
    capsys.readouterr()
    assert main(args) == 2
    error = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
    assert len(error) == 1 and error[0].startswith("electra-tf finetune: error:")
    expected = {"unknown_label": "unknown label 'maybe'. Known labels: 'neg', 'pos'", "empty_train": "empty",
                "missing_column": "text", "one_label": "two", "seq_too_long": "max_position_embeddings",
                "no_model": "holds no model"}[case]
    assert expected in error[0]
    assert not out.exists() and not (tmp_path / ".out.partial").exists()


def test_evaluate_rejects_labels_that_disagree_with_the_model(finished, toy, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(finished), "--data", toy["dev"], "--labels", "neg,pos,neutral"]) == 2
    error = capsys.readouterr().err
    assert "3 label(s)" in error and "trained with 2: neg, pos" in error


def test_finetune_from_a_hugging_face_checkpoint(toy, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    folder = tmp_path / "hf"
    transformers.ElectraForPreTraining(transformers.ElectraConfig(
        vocab_size=len(VOCAB), embedding_size=16, hidden_size=32, num_hidden_layers=1, num_attention_heads=1,
        intermediate_size=64, max_position_embeddings=64,
    )).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["finetune", "--task", "classification", "--model", str(folder), "--train", toy["train"],
                 "--validation", toy["dev"], "--out", str(out), "--text-column", "sentence", "--label-column",
                 "label", "--epochs", "1", *COMMON]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 4 and 0.0 <= summary["best"]["accuracy"] <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert (config["hidden_size"], config["num_layers"], config["vocab_size"]) == (32, 1, len(VOCAB))
    assert main(["evaluate", "--model", str(out), "--data", toy["dev"]]) == 0


def test_qa_and_tagging_end_to_end(toy, tmp_path, capsys):
    qa_train = write_squad(tmp_path / "train.json", 16, seed=1)
    qa_dev = write_squad(tmp_path / "dev.json", 8, seed=2)
    out = tmp_path / "qa"
    assert main(["finetune", "--task", "qa", "--model", toy["model"], "--train", qa_train, "--validation", qa_dev,
                 "--out", str(out), "--epochs", "1", "--seq-length", "24", "--doc-stride", "8",
                 "--max-query-length", "8", "--batch-size", "8"]) == 0
    task = json.loads((out / "task.json").read_text())
    assert task["task"] == "qa" and task["doc_stride"] == 8 and task["version_2_with_negative"] is False
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", qa_dev]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= result["exact_match"] <= 100 and 0 <= result["f1"] <= 100
    assert main(["infer", "--model", str(out), "--question", "who is the rome", "--context", "w1 bob is the rome",
                 "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["answer"] == "w1 bob is the rome"[record["char_start"]:record["char_end"]]

    tag_train = write_conll(tmp_path / "train.txt", 16, seed=1)
    tag_dev = write_conll(tmp_path / "dev.txt", 8, seed=2)
    out = tmp_path / "tagger"
    assert main(["finetune", "--task", "tagging", "--model", toy["model"], "--train", tag_train, "--validation",
                 tag_dev, "--out", str(out), "--epochs", "1", "--seq-length", "16", "--batch-size", "8"]) == 0
    assert json.loads((out / "task.json").read_text())["labels"] == ["O", "B-LOC", "B-PER"]
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", tag_dev]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"precision", "recall", "f1"} <= set(result)
    assert main(["infer", "--model", str(out), "--text", "ann w1 rome"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert [pair.split("/")[0] for pair in line.split()] == ["ann", "w1", "rome"]


def test_static_shape_strategies_train_on_full_batches_only(toy, tmp_path, capsys, monkeypatch):
    """Where shapes must be static (TPU), an epoch is the full batches of its order: 32 examples / 10 -> 3."""
    from electra_tf import distribute

    monkeypatch.setattr(distribute, "needs_static_shapes", lambda strategy: True)
    out = tmp_path / "static"
    args = _finetune_args(toy, out)
    args[args.index("--batch-size") + 1] = "10"
    assert main(args) == 0
    assert "the last 2 of 32 examples in each epoch's order are left out" in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert [entry["step"] for entry in metrics["epochs"]] == [3, 6]

    args = _finetune_args(toy, tmp_path / "too_few")
    args[args.index("--batch-size") + 1] = "64"
    assert main(args) == 2
    assert "32 training examples, fewer than --batch-size 64" in capsys.readouterr().err
