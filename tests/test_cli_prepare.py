"""`electra-tf prepare` and `electra-tf corpus` end to end through `electra_tf.cli.main.main`."""

import json

import pytest

from electra_tf.cli.main import main
from electra_tf.data import builtin_corpus


def test_prepare_writes_shards_vocab_and_manifest(tmp_path, shared_data, english_vocab, capsys):
    out = tmp_path / "data"
    books = str(shared_data / "corpus/en/gutenberg_raw/2701-0.txt")
    code = main(["prepare", books, "--vocab", str(english_vocab), "--out", str(out), "--seq-len", "64",
                 "--seed", "3", "--shards", "3", "--workers", "2", "--strip-gutenberg"])
    assert code == 0
    summary = capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"Wrote {manifest['counts']['examples']:,} examples of 64 tokens in 3 shards" in summary
    assert "gutenberg_header_lines 1" in summary
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "pretrain_data-00000-of-00003.tfrecord",
        "pretrain_data-00001-of-00003.tfrecord", "pretrain_data-00002-of-00003.tfrecord", "validation", "vocab.txt"]
    assert manifest["validation_shards"] == [{"file": "validation/pretrain_data-00000-of-00001.tfrecord",
                                              "examples": manifest["validation"]["counts"]["examples"]}]
    assert "held out: " in summary
    assert (manifest["seq_length"], manifest["seed"], manifest["lowercase"]) == (64, 3, True)
    # Running again into the same folder replaces the earlier run.
    assert main(["prepare", books, "--vocab", str(english_vocab), "--out", str(out), "--shards", "2"]) == 0
    assert len(list(out.glob("*.tfrecord"))) == 2


def bad_inputs(tmp, shared, vocab):
    text = tmp / "ok.txt"
    text.write_text("Some real text here.\n")
    binary = tmp / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    empty = tmp / "empty.txt"
    empty.write_text("\n\n")
    no_reserved = tmp / "vocab-no-reserved.txt"
    no_reserved.write_text("hello\nworld\n##s\n")
    return {
        "missing path": ([str(tmp / "nope.txt"), "--vocab", vocab], "No such corpus path"),
        "empty corpus": ([str(empty), "--vocab", vocab], "The corpus is empty"),
        "binary file": ([str(binary), "--vocab", vocab], "looks like a binary file"),
        "vocab without reserved tokens": ([str(text), "--vocab", str(no_reserved)], "[PAD]"),
        "missing vocab": ([str(text), "--vocab", str(tmp / "none.txt")], "none.txt"),
        "bad seq-len": ([str(text), "--vocab", vocab, "--seq-len", "2"], "seq_length"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing path", "empty corpus", "binary file", "vocab without reserved tokens", "missing vocab", "bad seq-len"],
)
def test_bad_input_exits_2_with_one_line(case, tmp_path, shared_data, english_vocab, capsys):
    arguments, expected = bad_inputs(tmp_path, shared_data, str(english_vocab))[case]
    code = main(["prepare", *arguments, "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(error) == 1 and error[0].startswith("electra-tf prepare: error: "), error
    assert expected in error[0]


def test_corpus_builtin_writes_paragraph_documents(tmp_path, monkeypatch, capsys):
    import pathlib
    import sysconfig

    # The whole run reads every installed package (about a minute); the test reads one stdlib package.
    email = pathlib.Path(sysconfig.get_paths()["stdlib"]) / "email"
    monkeypatch.setattr(builtin_corpus, "_source_roots", lambda packages: iter([("email", email)]))
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    assert main(["corpus", "--builtin", str(first)]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main(["corpus", "--builtin", str(second)]) == 0
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")  # deterministic
    documents = text.strip("\n").split("\n\n")
    assert len(documents) > 5 and len(text) > 20_000
    paragraphs = [line for line in text.splitlines() if line]
    assert all(p[0].isupper() and p.endswith((".", "!", "?")) and ">>>" not in p for p in paragraphs)
    nested = tmp_path / "new" / "folder" / "x.txt"
    assert main(["corpus", "--builtin", str(nested)]) == 0 and nested.read_text(encoding="utf-8") == text
    assert main(["corpus", "--builtin", str(tmp_path)]) == 2  # a folder, not a file name
