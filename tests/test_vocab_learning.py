"""Tests for `electra_tf.vocab_learning` and `electra-tf vocab`: learned vocabularies load and cover held-out text."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.cli.main import main
from electra_tf.errors import InputError
from electra_tf.tokenization import RESERVED_TOKENS, Tokenizer
from electra_tf.vocab_learning import count_words, learn_vocabulary, vocabulary_from_word_counts, write_vocabulary

VOCAB_SIZE = 2000  # Chinese; the English slice is smaller than its thresholds need for 2,000 entries
ENGLISH_VOCAB_SIZE = 1000


def _lines(files, limit):
    lines = []
    for path in sorted(files):
        lines += [line for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:limit]


def _train_and_held_out(lines):
    """Every 10th line is held out; the learner never sees it."""
    return [line for i, line in enumerate(lines) if i % 10], [line for i, line in enumerate(lines) if i % 10 == 0]


@pytest.fixture(scope="module")
def english_lines(shared_data):
    return _lines((shared_data / "corpus" / "en" / "gutenberg_sentences").glob("austen-*.txt"), 5000)


@pytest.fixture(scope="module")
def chinese_lines(shared_data):
    return _lines((shared_data / "corpus" / "zh" / "classical_novels").glob("*.txt"), 6000)


def _learn_and_load(lines, tmp_path, name, vocab_size):
    train, held_out = _train_and_held_out(lines)
    tokens = learn_vocabulary(train, vocab_size)
    path = tmp_path / f"{name}.txt"
    write_vocabulary(tokens, path)
    tokenizer = Tokenizer(path)
    ids = tokenizer(held_out).flat_values.numpy()
    return tokens, tokenizer, float(np.mean(ids == tokenizer.unk_id))


def test_english_vocabulary(english_lines, tmp_path):
    tokens, tokenizer, unk_rate = _learn_and_load(english_lines, tmp_path, "en", ENGLISH_VOCAB_SIZE)
    assert tokens[:5] == list(RESERVED_TOKENS)
    special_ids = (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id)
    assert special_ids == (0, 1, 2, 3, 4)
    # The learner stops within its 5% slack under the target.
    assert 0.95 * ENGLISH_VOCAB_SIZE <= tokenizer.vocab_size <= ENGLISH_VOCAB_SIZE
    assert len(set(tokens)) == len(tokens)
    assert unk_rate < 0.002, unk_rate
    assert {"the", "and", ",", ".", "##s"} <= set(tokens)
    # Punctuation is always split off, so a "##" twin of it could never be produced.
    assert not {"##,", "##.", "##!"} & set(tokens)


def test_chinese_vocabulary(chinese_lines, tmp_path):
    tokens, tokenizer, unk_rate = _learn_and_load(chinese_lines, tmp_path, "zh", VOCAB_SIZE)
    assert tokens[:5] == list(RESERVED_TOKENS)
    assert tokenizer.vocab_size == VOCAB_SIZE  # thousands of distinct characters: the budget fills up
    cjk = [token for token in tokens if len(token) == 1 and "\u4e00" <= token <= "\u9fff"]
    assert len(cjk) > 0.9 * VOCAB_SIZE
    assert not any(token.startswith("##") and "\u4e00" <= token[2:3] <= "\u9fff" for token in tokens)
    # 2,000 entries cannot hold every character of four novels; the rarest ones become [UNK].
    assert unk_rate < 0.05, unk_rate
    # Most frequent first: the characters kept are the ones that cover the text.
    train, _ = _train_and_held_out(chinese_lines)
    counts = count_words(train)
    kept, dropped = set(cjk), [char for char in counts if len(char) == 1 and char not in set(tokens)]
    assert min(counts[char] for char in kept) >= max((counts[char] for char in dropped), default=0)


def test_cased_vocabulary_keeps_case(tmp_path):
    texts = ["Paris and London", "Paris is big", "London is old"] * 40
    tokens = learn_vocabulary(texts, 60, lowercase=False)
    assert "Paris" in tokens and "paris" not in tokens
    write_vocabulary(tokens, tmp_path / "vocab.txt")
    ids = Tokenizer(tmp_path / "vocab.txt", lowercase=False)(["Paris"]).to_list()
    assert ids == [[tokens.index("Paris")]]


def test_count_words_uses_the_tokenizers_splitting(english_vocab):
    texts = ["Héllo, WORLD! 中文 " + "x" * 101, "don't"]
    words = Tokenizer(english_vocab).split(texts).flat_values.numpy().tolist()
    expected = [word.decode() for word in words if word != b"[UNK]"]  # over-long words are not counted
    counts = count_words(texts)
    assert sorted(counts.elements()) == sorted(expected)
    dataset_counts = count_words(tf.data.Dataset.from_tensor_slices(texts))
    assert dataset_counts == counts


def test_small_budget_and_bad_sizes():
    counts = {"hello": 50, "world": 40, ",": 30, "中": 20}
    tokens = vocabulary_from_word_counts(counts, 8)
    assert tokens[:5] == list(RESERVED_TOKENS) and len(tokens) <= 8
    for size in (5, 0, "100"):
        with pytest.raises(InputError, match="vocab_size"):
            vocabulary_from_word_counts(counts, size)
    with pytest.raises(InputError, match="no words"):
        learn_vocabulary(["", "  \t "], 100)


def test_cli_learns_from_files_and_globs(shared_data, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = shared_data / "corpus" / "en" / "gutenberg_sentences" / "carroll-alice.txt"
    (corpus / "alice.txt").write_text(source.read_text(encoding="utf-8")[:60_000], encoding="utf-8")
    out = tmp_path / "vocab.txt"
    assert main(["vocab", str(corpus / "*.txt"), "--size", "500", "--out", str(out)]) == 0
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith(f"wrote {out}:") and "uncased" in summary
    tokenizer = Tokenizer(out)
    assert tokenizer.vocab[:5] == list(RESERVED_TOKENS) and tokenizer.vocab_size <= 500
    assert tokenizer.vocab_hash[:12] in summary

    assert main(["vocab", str(corpus), "--size", "500", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["vocab", str(tmp_path / "missing"), "--size", "500", "--out", str(tmp_path / "v2.txt")]) == 2
    assert "No such corpus path" in capsys.readouterr().err


def test_docstring_examples():
    import doctest

    from electra_tf import vocab_learning

    result = doctest.testmod(vocab_learning)
    assert result.failed == 0 and result.attempted > 0
