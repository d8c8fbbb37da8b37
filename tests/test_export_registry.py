"""The signature registry: one function adds a signature to every export; models get what they can provide;
bad export arguments fail before anything is written."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops the in-graph tokenizer uses)

from electra_tf import ElectraPretrainer, Tokenizer
from electra_tf.errors import InputError
from electra_tf.export import SignatureSpec, export_saved_model, get_signature, register_signature, registry
from export_test_model import VOCAB, tiny_config, write_vocab


@pytest.fixture(scope="module")
def pretrainer():
    return ElectraPretrainer(tiny_config())


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return Tokenizer(write_vocab(tmp_path_factory.mktemp("vocab")))


def test_pretrained_signatures_are_registered_in_export_order():
    assert [spec.name for spec in registry.registered_signatures()][:4] == [
        "replaced_token_detection", "fill_mask", "encode", "encode_pair"]
    assert get_signature("encode_pair").ids_signature_name == "encode_ids"
    assert get_signature("fill_mask").ids_signature_name == "fill_mask_ids"
    assert get_signature("fill_mask").keep_mask_token and not get_signature("encode").keep_mask_token


def test_unknown_and_duplicate_signatures_are_refused():
    with pytest.raises(InputError, match="Unknown signature 'summarize'. Expected one of: replaced_token_detection"):
        get_signature("summarize")
    with pytest.raises(ValueError, match="registered already"):
        register_signature(SignatureSpec("encode", lambda context, inputs: {}))
    with pytest.raises(ValueError, match="one or two text inputs"):
        SignatureSpec("triple", lambda context, inputs: {}, text_inputs=("a", "b", "c"))


def test_an_mlm_baseline_exports_what_it_has():
    baseline = ElectraPretrainer(tiny_config(objective="mlm"))
    names = [spec.name for spec in registry.select_signatures(baseline)]
    assert names == ["fill_mask", "encode", "encode_pair", "infill", "generate"]  # no discriminator to score
    with pytest.raises(InputError, match="Cannot export signature 'replaced_token_detection': the model has no "
                                         "discriminator"):
        registry.select_signatures(baseline, ["encode", "replaced_token_detection"])


def test_a_new_signature_is_one_function(pretrainer, tokenizer, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # keep the global registry as it was

    def count_tokens(context, inputs):
        return {"real_tokens": tf.reduce_sum(inputs["input_mask"], axis=1)}  # [batch]

    register_signature(SignatureSpec("count_tokens", count_tokens, description="real tokens per text"))
    result = export_saved_model(pretrainer, tokenizer, tmp_path / "counter", signatures=["count_tokens"])
    assert result.signatures == ("count_tokens", "count_tokens_ids", "serving_default")
    loaded = tf.saved_model.load(result.path)
    texts = tf.constant(["the cat sat", "", "hello world " * 20])
    counted = loaded.signatures["serving_default"](text=texts)["real_tokens"].numpy()
    assert counted.tolist() == [5, 2, result.seq_length]
    ids = tokenizer.pack(tokenizer(texts), seq_length=result.seq_length)
    assert loaded.signatures["count_tokens_ids"](**ids)["real_tokens"].numpy().tolist() == counted.tolist()


def test_a_signature_with_an_op_tf_serving_lacks_is_not_published(pretrainer, tokenizer, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    def python_callback(context, inputs):
        return {"mask": tf.numpy_function(lambda mask: mask, [inputs["input_mask"]], tf.int32)}

    register_signature(SignatureSpec("python_callback", python_callback))
    with pytest.raises(ValueError, match=r"ops TF Serving cannot run: PyFunc \(runs Python code"):
        export_saved_model(pretrainer, tokenizer, tmp_path / "out", signatures=["python_callback"])
    assert os.listdir(tmp_path / "out") == []  # neither a version nor a staging folder


def test_a_vocabulary_that_does_not_match_the_config_is_refused(pretrainer, tmp_path):
    swapped = list(VOCAB)
    swapped[4], swapped[5] = swapped[5], swapped[4]  # [MASK] at id 5
    (tmp_path / "vocab.txt").write_text("\n".join(swapped) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"has \[MASK\] at id 5 but the model's config says mask_id=4"):
        export_saved_model(pretrainer, Tokenizer(tmp_path / "vocab.txt"), tmp_path / "out")
    (tmp_path / "big.txt").write_text("\n".join(VOCAB + ["extra"]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"has {len(VOCAB) + 1} tokens but the model's embedding table has"):
        export_saved_model(pretrainer, Tokenizer(tmp_path / "big.txt"), tmp_path / "out")
    with pytest.raises(InputError, match="needs the model's tokenizer"):
        export_saved_model(pretrainer, None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("arguments, message", [
    (dict(top_k=0), r"top_k to be an integer in \[1, "),
    (dict(seq_length=1, signatures=["encode"]), r"seq_length to be an integer in \[2, 64\]"),
    (dict(version=0), "positive integer version"),
])
def test_bad_export_arguments_fail_before_writing(pretrainer, tokenizer, tmp_path, arguments, message):
    with pytest.raises(InputError, match=message):
        export_saved_model(pretrainer, tokenizer, tmp_path / "out", **arguments)
    assert not (tmp_path / "out").exists()


def test_padded_vocabulary_ids_read_as_unk(tokenizer):
    from electra_tf.export.context import ExportContext

    context = ExportContext(None, tokenizer, seq_length=8, top_k=2, vocab_size=len(VOCAB) + 3)
    tokens = context.id_to_token(tf.constant([[2, len(VOCAB) + 1]])).numpy()
    assert tokens.tolist() == [[b"[CLS]", b"[UNK]"]]
    packed = context.pack_texts([tf.constant(["[MASK] the [mask]"])], keep_mask_token=True)
    np.testing.assert_array_equal(packed["input_word_ids"][0, :3], [2, 4, VOCAB.index("the")])
