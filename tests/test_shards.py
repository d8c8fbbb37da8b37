"""Serialized examples, sharded output of `prepare_pretraining_data`, and the manifest."""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.data.corpus import CorpusOptions
from electra_tf.data.manifest import read_manifest
from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data
from electra_tf.data.shards import serialize_examples
from electra_tf.errors import InputError

BOOKS = ("corpus/en/gutenberg_sentences/carroll-alice.txt", "corpus/en/gutenberg_sentences/blake-poems.txt")


@pytest.fixture(scope="module")
def corpus(shared_data):
    return [shared_data / name for name in BOOKS] + [shared_data / "corpus/en/gutenberg_raw/2701-0.txt"]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, corpus, english_vocab):
    out = tmp_path_factory.mktemp("prepared")
    options = PrepareOptions(seed=5, num_shards=4, workers=2, corpus=CorpusOptions(strip_gutenberg=True))
    return prepare_pretraining_data(corpus, english_vocab, out, options)


def shard_records(manifest):
    return [list(tf.data.TFRecordDataset(path).as_numpy_iterator()) for path in manifest.shard_paths]


def test_serialization_matches_protobuf():
    rng = np.random.default_rng(0)
    features = {
        "input_ids": rng.integers(0, 2**21, size=(50, 16)),
        "input_mask": rng.integers(0, 2, size=(50, 16)),
        "segment_ids": rng.integers(0, 2, size=(50, 16)),
    }
    features["input_ids"][0, :3] = [0, 127, 2**40]  # one-byte, boundary and six-byte varints
    for row, record in enumerate(serialize_examples(features)):
        example = tf.train.Example()
        for name, values in features.items():
            example.features.feature[name].int64_list.value.extend(values[row].tolist())
        assert record == example.SerializeToString(deterministic=True)


def test_shards_hold_every_example_and_token(prepared):
    counts = prepared.counts
    records = shard_records(prepared)
    assert [len(r) for r in records] == [shard["examples"] for shard in prepared.shards]
    assert sum(map(len, records)) == counts["examples"] > 1000
    assert max(map(len, records)) - min(map(len, records)) <= 1  # round robin
    spec = {name: tf.io.FixedLenFeature([128], tf.int64) for name in ("input_ids", "input_mask", "segment_ids")}
    parsed = tf.io.parse_example([r for shard in records for r in shard], spec)
    mask = parsed["input_mask"].numpy()
    ids = parsed["input_ids"].numpy()
    specials = np.isin(ids, [101, 102]) & (mask == 1)
    assert int(mask.sum() - specials.sum()) == counts["tokens_in_examples"]
    assert counts["tokens_in_examples"] + counts["tokens_truncated"] == counts["tokens"]
    assert (ids[:, 0] == 101).all() and ((ids != 0) == (mask == 1)).all()


def test_manifest_records_the_run(prepared, english_vocab):
    manifest = read_manifest(prepared.data_dir)
    assert manifest == prepared
    assert (manifest.seq_length, manifest.seed, manifest.lowercase, manifest.vocab_size) == (128, 5, True, 30522)
    assert open(manifest.vocab_path, "rb").read() == open(english_vocab, "rb").read()
    assert manifest.counts["files"] == 3 and manifest.counts["documents"] == 3
    assert manifest.counts["skipped"] == {"gutenberg_footer_lines": 1, "gutenberg_header_lines": 1}
    assert [entry["format"] for entry in manifest.corpus["files"]] == ["sentences", "sentences", "wrapped"]
    manifest.check_vocab(english_vocab)


def test_vocabulary_mismatch_is_refused(prepared, chinese_vocab):
    with pytest.raises(InputError, match="does not match") as error:
        read_manifest(prepared.data_dir).check_vocab(chinese_vocab)
    assert "\n" not in str(error.value)


def test_byte_identical_for_a_seed_whatever_the_workers(prepared, corpus, english_vocab, tmp_path):
    options = PrepareOptions(seed=5, num_shards=4, workers=1, corpus=CorpusOptions(strip_gutenberg=True))
    again = prepare_pretraining_data(corpus, english_vocab, tmp_path / "again", options)
    for first, second in zip(prepared.shard_paths, again.shard_paths):
        assert open(first, "rb").read() == open(second, "rb").read()
    other = prepare_pretraining_data(
        corpus, english_vocab, tmp_path / "other", PrepareOptions(seed=6, num_shards=4, corpus=options.corpus)
    )
    assert open(other.shard_paths[0], "rb").read() != open(prepared.shard_paths[0], "rb").read()


def test_missing_manifest_and_foreign_output_folder(tmp_path, corpus, english_vocab):
    with pytest.raises(InputError, match="No manifest.json"):
        read_manifest(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not empty"):
        prepare_pretraining_data(corpus[:1], english_vocab, tmp_path)
