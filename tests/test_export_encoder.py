"""`electra-tf export` on the command line, and the encoder SavedModel it writes reused for fine-tuning
from Keras 3 (`keras.layers.TFSMLayer`) and tf-keras (`tensorflow_hub.KerasLayer(path, trainable=True)`).
"""

import contextlib
import io
import json
import sys
import types

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops the in-graph tokenizer uses)

from electra_tf.cli.main import main
from export_test_model import make_model_dir

SEQ_LENGTH = 12


@pytest.fixture(scope="module")
def encoder_export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("encoder")
    model_dir, pretrainer = make_model_dir(folder / "model", seed=1)
    base = folder / "saved_models" / "encoder"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["export", "--model", str(model_dir), "--out", str(base), "--signatures", "encode",
                     "--seq-length", str(SEQ_LENGTH)])
    return types.SimpleNamespace(code=code, stdout=stdout.getvalue(), model_dir=model_dir, base=base,
                                 path=str(base / "1"), pretrainer=pretrainer)


def _export(argv, capsys):
    code = main(["export", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- The command line ---

def test_cli_writes_version_1_and_prints_its_path(encoder_export):
    assert encoder_export.code == 0
    assert encoder_export.stdout.strip() == encoder_export.path
    assert sorted(p.name for p in encoder_export.base.iterdir()) == ["1"]  # no staging folder left behind
    loaded = tf.saved_model.load(encoder_export.path)
    assert sorted(loaded.signatures) == ["encode", "encode_ids", "serving_default"]
    with open(f"{encoder_export.path}/assets.extra/export.json", encoding="utf-8") as f:
        info = json.load(f)
    assert info["seq_length"] == SEQ_LENGTH and info["serving_default"] == "encode"
    assert loaded.signatures["encode"].structured_outputs["sequence_output"].shape.as_list() == [None, SEQ_LENGTH, 32]


def test_encoder_export_holds_only_the_encoder_weights(encoder_export):
    saved = {name: shape for name, shape in tf.train.list_variables(f"{encoder_export.path}/variables/variables")
             if "OBJECT_GRAPH" not in name}
    encoder = encoder_export.pretrainer.discriminator.encoder
    expected_values = sum(int(np.prod(v.shape)) for v in encoder.variables) + 1  # + do_lower_case
    assert sum(int(np.prod(shape)) for shape in saved.values()) == expected_values
    assert len(saved) == len(encoder.variables) + 1


def test_cli_refuses_to_overwrite_a_version(encoder_export, capsys):
    code, out, err = _export(["--model", str(encoder_export.model_dir), "--out", str(encoder_export.base),
                              "--version", "1"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("electra-tf export: error: Version 1 exists") and "next free one (2)" in err
    assert sorted(p.name for p in encoder_export.base.iterdir()) == ["1"]


def test_cli_bad_model_dir_exits_2_with_one_line(tmp_path, capsys):
    code, out, err = _export(["--model", str(tmp_path / "missing"), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("electra-tf export: error: ") and "config.json is missing" in err
    assert not (tmp_path / "out").exists()


def test_cli_unknown_signature_lists_the_known_ones(encoder_export, tmp_path, capsys):
    code, _, err = _export(["--model", str(encoder_export.model_dir), "--out", str(tmp_path / "out"),
                            "--signatures", "encode,summarize"], capsys)
    assert code == 2
    assert "Unknown signature 'summarize'" in err and "fill_mask" in err and err.count("\n") == 1


def test_cli_rejects_a_sequence_longer_than_the_position_table(encoder_export, tmp_path, capsys):
    code, _, err = _export(["--model", str(encoder_export.model_dir), "--out", str(tmp_path / "out"),
                            "--seq-length", "65"], capsys)
    assert code == 2 and "seq_length" in err and "[3, 64]" in err  # encode_pair packs [CLS] A [SEP] B [SEP]


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--help"])
    assert exit_info.value.code == 0
    assert "--signatures" in capsys.readouterr().out


# --- Reuse for fine-tuning ---

def _labelled_batch():
    ids = np.array([[2, 5, 6, 7, 3, 0], [2, 9, 10, 3, 0, 0]], np.int32)
    inputs = {"input_word_ids": ids, "input_mask": (ids > 0).astype(np.int32), "input_type_ids": np.zeros_like(ids)}
    return inputs, np.array([0, 1])


def _expected_pooled(encoder_export, inputs):
    return encoder_export.pretrainer.discriminator.encoder(inputs, training=False).numpy()[:, 0]


def test_keras3_tfsm_layer_fine_tunes(encoder_export):
    import keras

    layer = keras.layers.TFSMLayer(encoder_export.path)  # its default endpoint, "serve"
    encoder_weights = encoder_export.pretrainer.discriminator.encoder.trainable_weights
    assert len(layer.trainable_weights) == len(encoder_weights) > 0
    inputs, labels = _labelled_batch()
    np.testing.assert_allclose(layer(inputs)["pooled_output"].numpy(), _expected_pooled(encoder_export, inputs),
                               atol=1e-5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(inputs)["pooled_output"] ** 2)
    assert all(gradient is not None for gradient in tape.gradient(loss, layer.trainable_weights))
    symbolic = {name: keras.Input((inputs[name].shape[1],), dtype="int32", name=name) for name in inputs}
    model = keras.Model(symbolic, keras.layers.Dense(2)(layer(symbolic)["pooled_output"]))
    # Plain SGD: Keras 3.15's TFSMLayer keeps ":0" in weight names, which optimizers with slot variables
    # reject (see test_keras3_tfsm_layer_with_adam_fails_in_keras).
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.numpy().copy() for w in layer.trainable_weights]
    model.fit(inputs, labels, epochs=1, verbose=0)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, layer.trainable_weights))


@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="Keras 3.15 bug: TFSMLayer names weights 'x:0', an invalid name scope for Adam's slots")
def test_keras3_tfsm_layer_with_adam_fails_in_keras(encoder_export):
    import keras

    layer = keras.layers.TFSMLayer(encoder_export.path)
    inputs, labels = _labelled_batch()
    symbolic = {name: keras.Input((inputs[name].shape[1],), dtype="int32", name=name) for name in inputs}
    model = keras.Model(symbolic, keras.layers.Dense(2)(layer(symbolic)["pooled_output"]))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(inputs, labels, epochs=1, verbose=0)


def _import_tensorflow_hub():
    """tensorflow_hub 0.16 imports `pkg_resources.parse_version`, which setuptools 81+ no longer ships.

    A stand-in is put in `sys.modules` for that import only and taken out again, so later tests (and their
    own `import pkg_resources`) see the real state of the environment.
    """
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        from packaging.version import parse

        stand_in = types.SimpleNamespace(parse_version=parse)
        sys.modules["pkg_resources"] = stand_in
        try:
            import tensorflow_hub
        finally:
            if sys.modules.get("pkg_resources") is stand_in:
                del sys.modules["pkg_resources"]
    import tensorflow_hub

    return tensorflow_hub


def test_tf_keras_hub_layer_fine_tunes(encoder_export):
    hub = _import_tensorflow_hub()
    assert not isinstance(sys.modules.get("pkg_resources"), types.SimpleNamespace)  # no stand-in left behind
    import tf_keras

    layer = hub.KerasLayer(encoder_export.path, trainable=True)
    inputs, labels = _labelled_batch()
    symbolic = {name: tf_keras.Input((inputs[name].shape[1],), dtype=tf.int32, name=name) for name in inputs}
    model = tf_keras.Model(symbolic, tf_keras.layers.Dense(2)(layer(symbolic)["pooled_output"]))
    encoder_weights = encoder_export.pretrainer.discriminator.encoder.trainable_weights
    assert len(layer.trainable_weights) == len(encoder_weights) > 0
    np.testing.assert_allclose(layer(inputs, training=False)["pooled_output"].numpy(),
                               _expected_pooled(encoder_export, inputs), atol=1e-5)
    model.compile(tf_keras.optimizers.Adam(1e-2), tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.numpy().copy() for w in layer.trainable_weights]
    model.fit(inputs, labels, epochs=1, verbose=0)  # training=True: the dropout trace of __call__
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, layer.trainable_weights))
