"""The exported SavedModel: every signature against the model called in-process, token-id twins, assets,
the TF Serving op allowlist, the TF1 `Session` loader (what TF Serving's `SavedModelBundle` does) and
`saved_model_cli run`. Reuse for fine-tuning and the command line are in `test_export_encoder.py`.

One random-weight tiny model is exported once for the module; its model directory is deleted right after
the export, so every test also shows that the SavedModel needs nothing outside itself.
"""

import json
import os
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops, as TF Serving's binary does)

from electra_tf import ElectraConfig, Tokenizer
from electra_tf.export import export_model_dir, names
from electra_tf.export.op_allowlist import TF_TEXT_SERVING_OPS, disallowed_ops, op_problem, saved_model_op_counts
from electra_tf.export.serving_compat import newer_attributes
from export_test_model import SEQ_LENGTH, VOCAB, make_model_dir, write_vocab

TOP_K = 4
TEXTS = [
    "The cat sat on the mat.",
    "Hello, world! The big dog ran fast and the small cat was slow.",  # truncated to SEQ_LENGTH
    "",
    "Unable houses, café?",  # accents stripped; unknown words become [UNK]
]
TEXTS_B = ["a red tree", "the dog", "is blue", ""]
MASK_TEXTS = [
    "the [MASK] sat on the [MASK].",
    "[MASK] world",
    "no mask in this text",
    "the " * 20 + "[MASK]",  # the mask is cut off by truncation: no row
    "a [mask] is ordinary text, [MASK] is not",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    model_dir, pretrainer = make_model_dir(folder / "model")
    result = export_model_dir(model_dir, folder / "saved_models" / "electra", top_k=TOP_K)
    shutil.rmtree(model_dir)
    shutil.rmtree(folder / "model-vocab")  # the vocabulary the model directory was made from
    tokenizer = Tokenizer(write_vocab(folder / "reference"))
    return types.SimpleNamespace(
        result=result, pretrainer=pretrainer, tokenizer=tokenizer, loaded=tf.saved_model.load(result.path),
        model_dir=model_dir,
    )


def _run(exported, signature, **inputs):
    function = exported.loaded.signatures[signature]
    return {key: value.numpy() for key, value in function(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


def _pack(tokenizer, texts, texts_b=None):
    segments_b = tokenizer(texts_b) if texts_b is not None else None
    return {k: v.numpy() for k, v in tokenizer.pack(tokenizer(texts), segments_b, seq_length=SEQ_LENGTH).items()}


def _pack_with_masks(tokenizer, texts):
    """The reference for `fill_mask`'s tokenization: split on the literal [MASK] in Python, tokenize pieces."""
    rows = []
    for text in texts:
        pieces = [tokenizer([piece]).to_list()[0] for piece in text.split(names.MASK_TOKEN)]
        row = list(pieces[0])
        for piece in pieces[1:]:
            row += [tokenizer.mask_id] + piece
        rows.append(row)
    packed = tokenizer.pack(tf.ragged.constant(rows, dtype=tf.int32, row_splits_dtype=tf.int64),
                            seq_length=SEQ_LENGTH)
    return {k: v.numpy() for k, v in packed.items()}


def _ids_inputs(packed):
    return {name: packed[name] for name in names.ID_INPUTS}


# --- Signature list, names, dtypes and shapes (the contract with clients) ---

HIDDEN = 32
EXPECTED_SIGNATURES = {
    # name: ({input: (dtype, shape)}, {output: (dtype, shape)})
    "replaced_token_detection": (
        {"text": (tf.string, [None])},
        {"tokens": (tf.string, [None, SEQ_LENGTH]), "replaced_probability": (tf.float32, [None, SEQ_LENGTH]),
         "input_mask": (tf.int32, [None, SEQ_LENGTH])},
    ),
    "fill_mask": (
        {"text": (tf.string, [None])},
        {"top_ids": (tf.int32, [None, None, TOP_K]), "top_tokens": (tf.string, [None, None, TOP_K]),
         "top_probabilities": (tf.float32, [None, None, TOP_K]), "mask_positions": (tf.int32, [None, None])},
    ),
    "encode": (
        {"text": (tf.string, [None])},
        {"pooled_output": (tf.float32, [None, HIDDEN]), "sequence_output": (tf.float32, [None, SEQ_LENGTH, HIDDEN]),
         "input_mask": (tf.int32, [None, SEQ_LENGTH])},
    ),
    "encode_pair": (
        {"text": (tf.string, [None]), "text_b": (tf.string, [None])},
        {"pooled_output": (tf.float32, [None, HIDDEN]), "sequence_output": (tf.float32, [None, SEQ_LENGTH, HIDDEN]),
         "input_mask": (tf.int32, [None, SEQ_LENGTH])},
    ),
}
ID_INPUT_SPECS = {name: (tf.int32, [None, None]) for name in names.ID_INPUTS}
EXPECTED_SIGNATURES.update({
    "replaced_token_detection_ids": (ID_INPUT_SPECS, {
        "tokens": (tf.string, [None, None]), "replaced_probability": (tf.float32, [None, None]),
        "input_mask": (tf.int32, [None, None])}),
    "fill_mask_ids": (ID_INPUT_SPECS, EXPECTED_SIGNATURES["fill_mask"][1]),
    "encode_ids": (ID_INPUT_SPECS, {
        "pooled_output": (tf.float32, [None, HIDDEN]), "sequence_output": (tf.float32, [None, None, HIDDEN]),
        "input_mask": (tf.int32, [None, None])}),
    "serving_default": EXPECTED_SIGNATURES["replaced_token_detection"],
})
# The generation signatures (`generation_signatures.py`; compared with the library in test_generation.py).
GENERATION_OUTPUTS = {
    "output_text": (tf.string, [None]), "output_ids": (tf.int32, [None, SEQ_LENGTH]),
    "tokens": (tf.string, [None, SEQ_LENGTH]), "generated": (tf.int32, [None, SEQ_LENGTH]),
    "slot_probabilities": (tf.float32, [None, SEQ_LENGTH]), "input_mask": (tf.int32, [None, SEQ_LENGTH]),
}
EXPECTED_SIGNATURES.update({
    "infill": ({"text": (tf.string, [None])}, {
        **GENERATION_OUTPUTS, "candidate_texts": (tf.string, [None, 1]), "candidate_scores": (tf.float32, [None, 1])}),
    "generate": ({"text": (tf.string, [None]), "num_tokens": (tf.int32, [None])}, {
        **GENERATION_OUTPUTS, "candidate_texts": (tf.string, [None, 4]), "candidate_scores": (tf.float32, [None, 4])}),
    "infill_ids": (ID_INPUT_SPECS, {
        **{key: (dtype, shape[:1] + [None] * (len(shape) - 1)) for key, (dtype, shape) in GENERATION_OUTPUTS.items()},
        "candidate_texts": (tf.string, [None, 1]), "candidate_scores": (tf.float32, [None, 1])}),
})


def test_signature_keys_inputs_and_outputs_are_the_documented_ones(exported):
    signatures = exported.loaded.signatures
    assert sorted(signatures) == sorted(EXPECTED_SIGNATURES) == list(exported.result.signatures)
    for name, (inputs, outputs) in EXPECTED_SIGNATURES.items():
        function = signatures[name]
        received_inputs = {key: (spec.dtype, spec.shape.as_list())
                           for key, spec in function.structured_input_signature[1].items()}
        received_outputs = {key: (spec.dtype, spec.shape.as_list())
                            for key, spec in function.structured_outputs.items()}
        assert received_inputs == inputs, name
        assert received_outputs == outputs, name


def test_names_match_the_serving_client(exported):
    from electra_serving import signatures as client

    keys = exported.loaded.signatures
    assert client.SERVING_DEFAULT in keys
    for name in (client.REPLACED_TOKEN_DETECTION, client.FILL_MASK, client.ENCODE):
        assert name in keys and client.token_ids_twin(name) in keys
        assert list(keys[name].structured_input_signature[1]) == [client.TEXT]
        assert set(keys[client.token_ids_twin(name)].structured_input_signature[1]) == {
            client.INPUT_WORD_IDS, client.INPUT_MASK, client.INPUT_TYPE_IDS}
    assert {client.TOKENS, client.REPLACED_PROBABILITY, client.INPUT_MASK} <= set(
        keys[client.SERVING_DEFAULT].structured_outputs)
    assert {client.TOP_TOKENS, client.TOP_PROBABILITIES, client.TOP_IDS} <= set(
        keys[client.FILL_MASK].structured_outputs)
    assert {client.POOLED_OUTPUT, client.SEQUENCE_OUTPUT, client.INPUT_MASK} <= set(
        keys[client.ENCODE].structured_outputs)
    assert client.MASK_TOKEN == names.MASK_TOKEN


# --- Every signature against the model called in-process ---

def test_replaced_token_detection_matches_the_discriminator(exported):
    outputs = _run(exported, "replaced_token_detection", text=TEXTS)
    packed = _pack(exported.tokenizer, TEXTS)
    real = packed["input_mask"] > 0
    logits = exported.pretrainer.discriminator(_ids_inputs(packed), training=False)["rtd_logits"].numpy()
    np.testing.assert_array_equal(outputs["input_mask"], packed["input_mask"])
    np.testing.assert_allclose(outputs["replaced_probability"], np.where(real, 1 / (1 + np.exp(-logits)), 0.0),
                               atol=1e-6)
    tokens = np.where(real, np.array(VOCAB, dtype=object)[packed["input_word_ids"]], "").astype(bytes)
    np.testing.assert_array_equal(outputs["tokens"], tokens)
    assert outputs["tokens"][0, :9].tolist() == [b"[CLS]", b"the", b"cat", b"sat", b"on", b"the", b"mat", b".",
                                                 b"[SEP]"]
    assert real[1].all() and outputs["tokens"][1, -1] == b"[SEP]"  # truncated to SEQ_LENGTH
    assert outputs["tokens"][2, :3].tolist() == [b"[CLS]", b"[SEP]", b""]  # empty text


def test_serving_default_is_replaced_token_detection(exported):
    default = _run(exported, "serving_default", text=TEXTS)
    named = _run(exported, "replaced_token_detection", text=TEXTS)
    for key in named:
        np.testing.assert_array_equal(default[key], named[key])


def test_fill_mask_matches_the_generator(exported):
    outputs = _run(exported, "fill_mask", text=MASK_TEXTS)
    packed = _pack_with_masks(exported.tokenizer, MASK_TEXTS)
    logits = exported.pretrainer.generator(_ids_inputs(packed), training=False)["mlm_logits"].numpy()
    is_mask = (packed["input_word_ids"] == 4) & (packed["input_mask"] > 0)
    expected_positions = [np.flatnonzero(row).tolist() for row in is_mask]
    assert expected_positions[0] == [2, 6] and expected_positions[1] == [1] and expected_positions[3] == []
    assert len(expected_positions[4]) == 1  # "[mask]" in lower case is text, not a mask
    masks = max(len(row) for row in expected_positions)
    assert outputs["mask_positions"].shape == (len(MASK_TEXTS), masks)
    for row, positions in enumerate(expected_positions):
        padded = positions + [-1] * (masks - len(positions))
        assert outputs["mask_positions"][row].tolist() == padded
        for slot in range(masks):
            if slot >= len(positions):  # padding slot
                assert outputs["top_ids"][row, slot].tolist() == [0] * TOP_K
                assert outputs["top_tokens"][row, slot].tolist() == [b""] * TOP_K
                assert outputs["top_probabilities"][row, slot].tolist() == [0.0] * TOP_K
                continue
            scores = logits[row, positions[slot]]
            probabilities = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
            top = np.argsort(-probabilities)[:TOP_K]
            assert outputs["top_ids"][row, slot].tolist() == top.tolist()
            np.testing.assert_allclose(outputs["top_probabilities"][row, slot], probabilities[top], atol=1e-6)
            assert outputs["top_tokens"][row, slot].tolist() == [VOCAB[i].encode() for i in top]


def test_encode_matches_the_discriminator_encoder(exported):
    outputs = _run(exported, "encode", text=TEXTS)
    packed = _pack(exported.tokenizer, TEXTS)
    sequence = exported.pretrainer.discriminator.encoder(_ids_inputs(packed), training=False).numpy()
    np.testing.assert_allclose(outputs["sequence_output"], sequence, atol=1e-5)
    np.testing.assert_array_equal(outputs["pooled_output"], outputs["sequence_output"][:, 0])
    np.testing.assert_array_equal(outputs["input_mask"], packed["input_mask"])


def test_encode_pair_packs_two_segments(exported):
    outputs = _run(exported, "encode_pair", text=TEXTS, text_b=TEXTS_B)
    packed = _pack(exported.tokenizer, TEXTS, TEXTS_B)
    sequence = exported.pretrainer.discriminator.encoder(_ids_inputs(packed), training=False).numpy()
    np.testing.assert_array_equal(outputs["input_mask"], packed["input_mask"])
    np.testing.assert_allclose(outputs["sequence_output"], sequence, atol=1e-5)
    assert packed["input_type_ids"][0].tolist()[:13] == [0] * 9 + [1] * 4  # [CLS] A(7) [SEP] | a red tree [SEP]


def test_token_id_twins_equal_the_text_signatures(exported):
    cases = [
        ("replaced_token_detection", {"text": TEXTS}, _pack(exported.tokenizer, TEXTS)),
        ("fill_mask", {"text": MASK_TEXTS}, _pack_with_masks(exported.tokenizer, MASK_TEXTS)),
        ("encode", {"text": TEXTS}, _pack(exported.tokenizer, TEXTS)),
        ("encode_pair", {"text": TEXTS, "text_b": TEXTS_B}, _pack(exported.tokenizer, TEXTS, TEXTS_B)),
    ]
    for name, text_inputs, packed in cases:
        twin = "encode_ids" if name == "encode_pair" else name + "_ids"
        from_text = _run(exported, name, **text_inputs)
        from_ids = _run(exported, twin, **_ids_inputs(packed))
        assert sorted(from_text) == sorted(from_ids), name
        for key in from_text:
            if from_text[key].dtype.kind == "f":
                np.testing.assert_allclose(from_ids[key], from_text[key], atol=1e-6, err_msg=f"{name}/{key}")
            else:
                np.testing.assert_array_equal(from_ids[key], from_text[key], err_msg=f"{name}/{key}")


def test_id_twins_accept_any_sequence_length(exported):
    ids = np.array([[2, 5, 6, 3]], np.int32)
    outputs = _run(exported, "encode_ids", input_word_ids=ids, input_mask=np.ones_like(ids),
                   input_type_ids=np.zeros_like(ids))
    assert outputs["sequence_output"].shape == (1, 4, HIDDEN)


def test_empty_batches_and_texts_without_masks_give_empty_outputs(exported):
    outputs = _run(exported, "replaced_token_detection", text=np.array([], dtype=object).astype(bytes))
    assert outputs["tokens"].shape == (0, SEQ_LENGTH)
    outputs = _run(exported, "fill_mask", text=np.array([], dtype=bytes))
    assert outputs["top_ids"].shape == (0, 0, TOP_K)
    outputs = _run(exported, "fill_mask", text=["no mask here", "nor here"])
    assert outputs["top_ids"].shape == (2, 0, TOP_K) and outputs["mask_positions"].shape == (2, 0)


# --- Assets and independence from the model directory ---

def test_vocabulary_and_config_are_assets(exported):
    path = exported.result.path
    assert not exported.model_dir.exists()  # deleted by the fixture, with the vocabulary it was made from
    with open(os.path.join(path, "assets", "vocab.txt"), encoding="utf-8") as f:
        assert f.read().split("\n")[:-1] == VOCAB
    assert ElectraConfig.load(os.path.join(path, "assets", "config.json")) == exported.pretrainer.config
    assert exported.loaded.vocab_file.asset_path.numpy().decode() == os.path.join(path, "assets", "vocab.txt")
    assert bool(exported.loaded.do_lower_case.numpy()) is True
    with open(os.path.join(path, "assets.extra", "export.json"), encoding="utf-8") as f:
        info = json.load(f)
    assert info["seq_length"] == SEQ_LENGTH and info["top_k"] == TOP_K and info["lowercase"] is True
    assert info["serving_default"] == "replaced_token_detection"
    assert info["signatures"] == sorted(EXPECTED_SIGNATURES)
    assert info["vocab_sha256"] == exported.tokenizer.vocab_hash


def test_export_moved_elsewhere_still_runs(exported, tmp_path):
    moved = tmp_path / "elsewhere" / "7"
    shutil.copytree(exported.result.path, moved)
    loaded = tf.saved_model.load(str(moved))
    outputs = loaded.signatures["replaced_token_detection"](text=tf.constant(TEXTS))
    expected = _run(exported, "replaced_token_detection", text=TEXTS)
    np.testing.assert_array_equal(outputs["tokens"].numpy(), expected["tokens"])
    assert loaded.vocab_file.asset_path.numpy().decode().startswith(str(moved))


# --- TF Serving compatibility: ops, TF1 loader, saved_model_cli ---

def test_every_op_is_core_or_a_tf_text_op_tf_serving_bundles(exported):
    counts = saved_model_op_counts(exported.result.path)
    assert disallowed_ops(exported.result.path) == {}
    tf_text_ops = {op for op in counts if not hasattr(tf.raw_ops, op)}
    assert tf_text_ops <= TF_TEXT_SERVING_OPS
    assert {"NormalizeUTF8", "RegexSplitWithOffsets", "FastWordpieceTokenizeWithOffsets"} <= tf_text_ops
    assert not any("Trim" in op or "PyFunc" in op for op in counts)
    assert newer_attributes(exported.result.path) == []  # e.g. VarHandleOp's debug_name, unknown to TF 2.12


def test_op_allowlist_rejects_what_tf_serving_cannot_run():
    assert op_problem("MatMul") is None and op_problem("FastWordpieceTokenizeWithOffsets") is None
    assert "Python" in op_problem("EagerPyFunc")
    assert "TF Serving" in op_problem("TFText>RoundRobinTrim")
    assert "neither core" in op_problem("SentencepieceOp")  # registered by tensorflow_text, not allowlisted


def test_tf1_session_loader_runs_every_text_signature(exported):
    expected = {name: _run(exported, name, text=MASK_TEXTS) for name in ("serving_default", "fill_mask", "encode")}
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], exported.result.path)
        for name, outputs in expected.items():
            signature = meta_graph.signature_def[name]
            assert signature.method_name == "tensorflow/serving/predict"
            feed = {signature.inputs["text"].name: np.array([t.encode() for t in MASK_TEXTS], dtype=object)}
            fetches = {key: info.name for key, info in signature.outputs.items()}
            received = session.run(fetches, feed)
            assert sorted(received) == sorted(outputs)
            for key, value in outputs.items():
                if value.dtype.kind == "f":
                    np.testing.assert_allclose(received[key], value, atol=1e-5, err_msg=f"{name}/{key}")
                else:
                    np.testing.assert_array_equal(received[key], value)


def test_saved_model_cli_run(exported):
    expected = _run(exported, "fill_mask", text=["the [MASK] sat"])
    command = [sys.executable, "-m", "electra_tf.export.saved_model_cli", "run", "--dir", exported.result.path,
               "--tag_set", "serve", "--signature_def", "fill_mask", "--input_exprs", 'text=["the [MASK] sat"]']
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Result for output key top_tokens:" in completed.stdout
    assert repr(expected["top_tokens"][0, 0, 0]) in completed.stdout
    assert "Result for output key mask_positions:\n[[2]]" in completed.stdout
