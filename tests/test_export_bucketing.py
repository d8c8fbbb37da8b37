"""Length-bucketed raw-text signatures: a batch is padded to its longest packed text rounded up to a multiple
of `bucket_size` (at most `seq_length`), and gives the same values on its tokens as the fixed-length export.

One tiny random-weight model is exported twice from one model directory: bucketed (the default, through the
Python API) and fixed-length (`electra-tf export --fixed-length`). Sequence length 40 with buckets of 16 gives
three buckets: 16, 32 and 40 (the cap).
"""

import contextlib
import io
import json
import types

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops, as TF Serving's binary does)

from electra_tf.cli.main import main
from electra_tf.errors import InputError
from electra_tf import Tokenizer
from electra_tf.export import export_model_dir, export_saved_model
from electra_tf.export.op_allowlist import disallowed_ops
from electra_tf.export.serving_compat import newer_attributes
from electra_tf.input_packing import bucketed_length, pack_inputs
from export_test_model import make_model_dir, write_vocab

SEQ_LENGTH = 40
BUCKET = 16
HIDDEN = 32
SHORT = ["the cat sat", "", "a big dog ran fast"]  # packed lengths 5, 2, 7 -> bucket 16
MEDIUM = SHORT + ["the cat sat on the mat and the dog ran fast . hello world"]  # 14 + 2 = 16 -> still 16
LONGER = SHORT + ["the cat sat on the mat and the dog ran fast . hello world is"]  # 17 tokens -> 32
LONGEST = SHORT + ["the " * 60]  # truncated to 40 -> 40 (capped, not 48)
SIGNATURES = ["replaced_token_detection", "fill_mask", "encode", "encode_pair"]  # those of text inputs only
MASKED = ["the [MASK] sat on the [MASK] .", "[MASK] world", "no mask", "the " * 50 + "[MASK]"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bucketing")
    model_dir, pretrainer = make_model_dir(folder / "model", seed=3, seq_length=SEQ_LENGTH)
    bucketed = export_model_dir(model_dir, folder / "bucketed", top_k=3, signatures=SIGNATURES)
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        code = main(["export", "--model", str(model_dir), "--out", str(folder / "fixed"), "--fixed-length",
                     "--top-k", "3", "--signatures", ",".join(SIGNATURES)])
    assert code == 0
    fixed_path = stdout.getvalue().strip()
    return types.SimpleNamespace(
        pretrainer=pretrainer, bucketed=bucketed, bucketed_path=bucketed.path, fixed_path=fixed_path,
        bucketed_model=tf.saved_model.load(bucketed.path), fixed_model=tf.saved_model.load(fixed_path),
    )


def _run(loaded, signature, **inputs):
    outputs = loaded.signatures[signature](**{key: tf.constant(value) for key, value in inputs.items()})
    return {key: value.numpy() for key, value in outputs.items()}


# --- The bucket arithmetic and the packing ---

def test_bucketed_length_rounds_up_to_a_bucket_and_caps_at_seq_length():
    received = [int(bucketed_length(n, BUCKET, SEQ_LENGTH)) for n in (0, 1, 2, 16, 17, 32, 33, 40)]
    assert received == [16, 16, 16, 16, 32, 32, 40, 40]
    assert int(bucketed_length(17, 16, 128)) == 32 and int(bucketed_length(128, 16, 128)) == 128
    assert int(bucketed_length(5, 16, 12)) == 12  # a sequence length below one bucket


def test_packing_pads_to_the_bucket_and_keeps_the_tokens_of_the_fixed_packing():
    a = tf.ragged.constant([[7] * 20, [5]])
    b = tf.ragged.constant([[4, 4], [6] * 50])
    fixed = pack_inputs(a, b, seq_length=SEQ_LENGTH, cls_id=2, sep_id=3, pad_id=0)
    bucketed = pack_inputs(a, b, seq_length=SEQ_LENGTH, cls_id=2, sep_id=3, pad_id=0, bucket_size=BUCKET)
    assert bucketed["input_word_ids"].shape == (2, 40)  # row 2 truncated to 40 -> the cap
    short = pack_inputs(a[:1], b[:1], seq_length=SEQ_LENGTH, cls_id=2, sep_id=3, pad_id=0, bucket_size=BUCKET)
    assert short["input_word_ids"].shape == (1, 32)  # 20 + 2 + 3 = 25 tokens -> 32
    for key in fixed:
        np.testing.assert_array_equal(bucketed[key].numpy(), fixed[key].numpy())
        np.testing.assert_array_equal(short[key].numpy(), fixed[key].numpy()[:1, :32])
        assert not fixed[key].numpy()[:1, 32:].any()  # what the bucket leaves out is padding
    empty = pack_inputs(a[:0], seq_length=SEQ_LENGTH, cls_id=2, sep_id=3, pad_id=0, bucket_size=BUCKET)
    assert empty["input_word_ids"].shape == (0, BUCKET)
    one_bucket = pack_inputs(a, seq_length=12, cls_id=2, sep_id=3, pad_id=0, bucket_size=BUCKET)
    assert one_bucket["input_mask"].shape == (2, 12)
    with pytest.raises(InputError, match=r"bucket_size to be an integer >= 0.*Received: bucket_size=-1"):
        pack_inputs(a, seq_length=SEQ_LENGTH, cls_id=2, sep_id=3, pad_id=0, bucket_size=-1)


# --- The exported signatures ---

@pytest.mark.parametrize("texts, longest, length", [(SHORT, 7, 16), (MEDIUM, 16, 16), (LONGER, 17, 32),
                                                     (LONGEST, 40, 40)])
def test_text_signatures_pad_to_the_batch_bucket(exports, texts, longest, length):
    outputs = _run(exports.bucketed_model, "replaced_token_detection", text=texts)
    assert outputs["tokens"].shape == outputs["replaced_probability"].shape == (len(texts), length)
    assert outputs["input_mask"].sum(axis=1).max() == longest
    encoded = _run(exports.bucketed_model, "encode", text=texts)
    assert encoded["sequence_output"].shape == (len(texts), length, HIDDEN)
    one = _run(exports.bucketed_model, "encode", text=["hello"])  # 1 word: 3 tokens -> one bucket
    assert one["sequence_output"].shape == (1, BUCKET, HIDDEN)


def _assert_same_on_the_bucket(bucketed, fixed, name):
    assert sorted(bucketed) == sorted(fixed), name
    for key, value in bucketed.items():
        expected = fixed[key]
        if value.shape != expected.shape:  # per-token output: the bucket is a prefix of the fixed length
            length = value.shape[1]
            assert expected.shape[1] == SEQ_LENGTH and length < SEQ_LENGTH, (name, key)
            if "input_mask" in fixed:
                assert not fixed["input_mask"][:, length:].any(), f"{name}: tokens past the bucket"
            expected = expected[:, :length]
        if value.dtype.kind == "f":
            np.testing.assert_allclose(value, expected, atol=1e-5, err_msg=f"{name}/{key}")
        else:
            np.testing.assert_array_equal(value, expected, err_msg=f"{name}/{key}")


def test_every_text_signature_matches_the_fixed_length_export(exports):
    signatures = sorted(set(exports.bucketed_model.signatures) - {"serving_default"})
    assert signatures == sorted(set(exports.fixed_model.signatures) - {"serving_default"})
    checked = []
    for name in signatures:
        inputs = exports.bucketed_model.signatures[name].structured_input_signature[1]
        if "text" not in inputs or not set(inputs) <= {"text", "text_b"}:  # id twins; generation's extra inputs
            continue
        for texts in (SHORT, LONGER, MASKED):
            feed = {"text": texts, **({"text_b": texts[::-1]} if "text_b" in inputs else {})}
            _assert_same_on_the_bucket(_run(exports.bucketed_model, name, **feed),
                                       _run(exports.fixed_model, name, **feed), name)
        checked.append(name)
    assert set(SIGNATURES) <= set(checked)


def test_id_twins_keep_the_callers_length(exports):
    ids = np.array([[2, 5, 6, 3] + [0] * 20], np.int32)  # 24 columns: not a bucket
    mask = (ids > 0).astype(np.int32)
    outputs = _run(exports.bucketed_model, "replaced_token_detection_ids", input_word_ids=ids, input_mask=mask,
                   input_type_ids=np.zeros_like(ids))
    assert outputs["replaced_probability"].shape == (1, 24)


def test_export_info_and_cli_flag(exports):
    with open(f"{exports.bucketed_path}/assets.extra/export.json", encoding="utf-8") as f:
        assert json.load(f)["bucket_size"] == BUCKET == exports.bucketed.bucket_size
    with open(f"{exports.fixed_path}/assets.extra/export.json", encoding="utf-8") as f:
        assert json.load(f)["bucket_size"] == 0
    fixed_rtd = exports.fixed_model.signatures["replaced_token_detection"]
    assert fixed_rtd.structured_outputs["tokens"].shape.as_list() == [None, SEQ_LENGTH]
    bucketed_rtd = exports.bucketed_model.signatures["replaced_token_detection"]
    assert bucketed_rtd.structured_outputs["tokens"].shape.as_list() == [None, None]


def test_a_negative_bucket_size_is_refused_before_writing(exports, tmp_path):
    tokenizer = Tokenizer(write_vocab(tmp_path / "vocab"))
    with pytest.raises(InputError, match=r"bucket_size to be an integer in \[0, 64\]. Received: bucket_size=-1"):
        export_saved_model(exports.pretrainer, tokenizer, tmp_path / "out", bucket_size=-1)
    assert not (tmp_path / "out").exists()


# --- TF Serving compatibility of the bucketed export ---

def test_bucketed_export_uses_only_ops_tf_serving_has(exports):
    assert disallowed_ops(exports.bucketed_path) == {}
    assert newer_attributes(exports.bucketed_path) == []


def test_tf1_session_loader_runs_the_bucketed_signatures(exports):
    texts = LONGER
    expected = {name: _run(exports.bucketed_model, name, text=texts) for name in ("serving_default", "encode")}
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], exports.bucketed_path)
        for name, outputs in expected.items():
            signature = meta_graph.signature_def[name]
            feed = {signature.inputs["text"].name: np.array([t.encode() for t in texts], dtype=object)}
            received = session.run({key: info.name for key, info in signature.outputs.items()}, feed)
            assert received["input_mask"].shape == (len(texts), 32)
            for key, value in outputs.items():
                if value.dtype.kind == "f":
                    np.testing.assert_allclose(received[key], value, atol=1e-5, err_msg=f"{name}/{key}")
                else:
                    np.testing.assert_array_equal(received[key], value, err_msg=f"{name}/{key}")
