"""`electra-tf fill-mask`, `generate`, `score` and `rerank`: human and JSON output, --file, words rather than
pieces, Chinese without spaces, highlighting only on a terminal, and bad input as one line with exit status 2.

The commands run in-process through `electra_tf.cli.main.main` (the console script's entry point) on a tiny
untrained pair whose vocabulary has English pieces and Chinese characters; the trained pair of
`generation_test_model.py` checks that the output is the library's.
"""

import json

import pytest

from electra_tf.cli.main import main
from generation_test_model import random_model_dir, trained_model_dir

CHINESE = "今天天气很好，适合户外活动。"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return random_model_dir(tmp_path_factory.mktemp("cli") / "model")


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fill_mask_prints_words_and_chinese_without_spaces(capsys):
    model = str(trained_model_dir())
    code, out, _ = _run(capsys, "fill-mask", "--model", model, "--top-k", "2", "--whole-word",
                        "今天天气很好，[MASK][MASK]户外活动。", "the dog was [MASK] to run .")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "今天天气很好，[MASK][MASK]户外活动。" and lines[1].startswith("  [MASK] 1: ")
    filled = [line for line in lines if line.startswith("  -> ")]
    assert len(filled) == 2 and " " not in filled[0][len("  -> "):]
    assert "##" not in out  # whole words, not pieces


def test_fill_mask_json_and_file(capsys, tmp_path):
    model = str(trained_model_dir())
    texts = tmp_path / "texts.txt"
    texts.write_text("the cat sat on the [MASK] .\r\n\r\n[MASK] world\n", encoding="utf-8")
    code, out, _ = _run(capsys, "fill-mask", "--model", model, "--file", str(texts), "--json", "--top-k", "3")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in records] == ["the cat sat on the [MASK] .", "[MASK] world"]
    assert len(records[0]["masks"]) == 1 and len(records[0]["masks"][0]) == 3
    assert records[0]["masks"][0][0]["text"] == "mat" and records[0]["filled_text"] == "the cat sat on the mat."


def test_generate_json(capsys, model_dir):
    code, out, _ = _run(capsys, "generate", "--model", str(model_dir), "今天", "--num-tokens", "4",
                        "--temperature", "1", "--top-k", "5", "--candidates", "3", "--seed", "3", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["prompt"] == "今天" and len(record["candidates"]) == 3
    assert sum(record["candidates"][0]["generated"]) == 4
    assert [c["score"] for c in record["candidates"]] == sorted((c["score"] for c in record["candidates"]),
                                                                 reverse=True)
    assert all(" " not in c["text"] and c["text"].startswith("今天") for c in record["candidates"])


def test_score_highlights_suspects_only_on_a_terminal(capsys, monkeypatch):
    model = str(trained_model_dir())
    code, out, _ = _run(capsys, "score", "--model", model, "the cat sat on the blue .", CHINESE)
    assert code == 0 and "\033[" not in out
    lines = out.splitlines()
    assert lines[0].startswith("the cat sat on the blue.   naturalness ")
    assert lines[1] == "  suspects: blue " + lines[1].split()[-1]
    assert lines[3].startswith(CHINESE + "   naturalness ")  # joined without spaces
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    code, out, _ = _run(capsys, "score", "--model", model, "the cat sat on the blue .")
    assert "\033[1;31mblue\033[0m" in out


def test_score_json_and_rerank(capsys, tmp_path):
    model = str(trained_model_dir())
    code, out, _ = _run(capsys, "score", "--model", model, "--json", "the dog was unable to run .")
    record = json.loads(out)
    assert [w["word"] for w in record["words"]][3] == "unable" and record["tokens"][3:5] == ["un", "##able"]
    candidates = tmp_path / "candidates.txt"
    candidates.write_text("mat the on sat cat the .\nthe cat sat on the mat .\n", encoding="utf-8")
    code, out, _ = _run(capsys, "rerank", "--model", model, "--file", str(candidates))
    first = out.splitlines()[0]
    assert code == 0 and first.startswith("1. ") and first.endswith("  the cat sat on the mat .")


@pytest.mark.parametrize("argv, message", [
    (["fill-mask", "no mask here"], "has no [MASK]"),
    (["fill-mask", "the " + "[MASK] " * 20], "only 13 fit"),
    (["score", ""], "is empty"),
    (["rerank"], "No candidates"),
    (["generate", "the cat"], "Nothing to generate"),
    (["generate", "the cat", "--num-tokens", "40"], "num_tokens"),
    (["fill-mask", "the [MASK]", "--top-k", "0"], "top_k"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, model_dir, argv, message):
    code, out, err = _run(capsys, argv[0], "--model", str(model_dir), *argv[1:])
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err, err


def test_models_that_cannot_do_the_task_exit_2(capsys, tmp_path):
    finetuned = tmp_path / "finetuned"
    finetuned.mkdir()
    (finetuned / "config.json").write_text("{}")
    (finetuned / "task.json").write_text('{"task": "classification"}')
    code, _, err = _run(capsys, "fill-mask", "--model", str(finetuned), "the [MASK]")
    assert code == 2 and "holds no generator" in err and len(err.splitlines()) == 1
    mlm = random_model_dir(tmp_path / "mlm", objective="mlm")
    code, _, err = _run(capsys, "score", "--model", str(mlm), "the cat")
    assert code == 2 and "needs a discriminator" in err
    code, _, err = _run(capsys, "score", "--model", str(tmp_path / "missing"), "the cat")
    assert code == 2 and len(err.splitlines()) == 1
