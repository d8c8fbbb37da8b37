"""`prepare_pretraining_data`'s fast paths give the examples of the plain, one-sentence-at-a-time algorithm.

The preparation tokenizes batches on threads (mostly through the tokenizer's fast path for plain lines), feeds
the example builder a batch at a time (`ExampleBuilder.add_sentences`) and serializes on a background thread.
These tests check that none of that changes a single example against `Tokenizer.tokenize_general` (the full
normalisation) and `ExampleBuilder.add_sentence` / `end_document`, sentence by sentence.
"""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.data import preparation
from electra_tf.data.corpus import CorpusOptions, CorpusReader
from electra_tf.data.example_builder import ExampleBuilder, stack_examples
from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data

CLS, SEP = 101, 102


def _one_at_a_time(builder, token_ids, row_splits, document_ends):
    examples = []
    for index in range(len(row_splits) - 1):
        example = builder.add_sentence(token_ids[row_splits[index] : row_splits[index + 1]])
        if example is not None:
            examples.append(example)
        if document_ends[index]:
            example = builder.end_document()
            if example is not None:
                examples.append(example)
    return examples


def test_add_sentences_equals_adding_one_sentence_at_a_time():
    """Random documents (empty sentences, long ones, short targets) cut into random batches."""
    rng = np.random.default_rng(0)
    for trial in range(200):
        count = int(rng.integers(1, 300))
        lengths = rng.integers(0, 40, size=count) * (rng.random(count) > 0.1)  # ~10% empty sentences
        document_ends = rng.random(count) < rng.choice([0.01, 0.1, 0.5])
        token_ids = rng.integers(1000, 2000, size=int(lengths.sum())).astype(np.int32)
        row_splits = np.concatenate([[0], np.cumsum(lengths)])
        seq_length = int(rng.choice([8, 16, 64, 128]))

        single = ExampleBuilder(seq_length, CLS, SEP, seed=trial)
        expected = _one_at_a_time(single, token_ids, row_splits, document_ends)
        batched = ExampleBuilder(seq_length, CLS, SEP, seed=trial)
        cuts = sorted({0, count, *rng.integers(0, count, size=int(rng.integers(0, 6))).tolist()})
        examples = []
        for start, stop in zip(cuts, cuts[1:]):
            batch_tokens = token_ids[row_splits[start] : row_splits[stop]]
            examples += batched.add_sentences(batch_tokens, row_splits[start : stop + 1] - row_splits[start],
                                              document_ends[start:stop])
        assert [(e.first_segment.tolist(), e.second_segment.tolist()) for e in examples] == [
            (e.first_segment.tolist(), e.second_segment.tolist()) for e in expected
        ], trial
        assert batched.stats == single.stats, trial


@pytest.mark.parametrize("workers", [1, 2])
def test_prepared_shards_equal_the_plain_algorithm(tmp_path, shared_data, english_vocab, monkeypatch, workers):
    """Real text with plain and non-plain lines, in many small batches and write blocks."""
    from electra_tf.tokenization import Tokenizer

    monkeypatch.setattr(preparation, "BATCH_CHARACTERS", 16 * 1024)  # ~40 tokenization batches
    monkeypatch.setattr(preparation, "WRITE_BLOCK", 100)  # ~40 blocks on the writer thread
    corpus = [
        shared_data / "corpus/en/gutenberg_sentences/blake-poems.txt",  # ASCII: plain lines
        shared_data / "corpus/en/gutenberg_raw/11-0.txt",  # Alice, with some accents and symbols
    ]
    options = PrepareOptions(seq_length=64, seed=5, num_shards=1, workers=workers,
                             corpus=CorpusOptions(corpus_format="sentences"), validation_fraction=0.0)
    tokenizer = Tokenizer(english_vocab)
    manifest = prepare_pretraining_data(corpus, english_vocab, tmp_path / "data", options, tokenizer=tokenizer)

    builder = ExampleBuilder(64, CLS, SEP, seed=5)
    expected = []
    plain_lines = 0
    for block in CorpusReader(corpus, options.corpus).blocks():
        ids = tokenizer.tokenize_general(block.sentences)
        plain_lines += int(tokenizer.is_plain(block.sentences).numpy().sum())
        document_ends = np.zeros([len(block.sentences)], bool)
        document_ends[block.document_ends] = True
        expected += _one_at_a_time(builder, ids.flat_values.numpy(), ids.row_splits.numpy(), document_ends)
    assert 0 < plain_lines < manifest.counts["sentences"]  # both tokenizer paths are used

    spec = {"input_ids": tf.io.FixedLenFeature([64], tf.int64)}
    records = list(tf.data.TFRecordDataset(manifest.shard_paths[0]).as_numpy_iterator())
    written = tf.io.parse_example(records, spec)["input_ids"].numpy()
    assert len(expected) == manifest.counts["examples"] > 400
    assert written.tolist() == stack_examples(expected, 64, CLS, SEP)["input_ids"].tolist()
    assert manifest.counts["tokens"] == builder.stats.tokens
