"""TokenwiseDense and the flattened MLM logits against the Keras formulation they replaced."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from electra_tf import ElectraConfig, ElectraPretrainer, models
from electra_tf.layers.activations import gelu
from electra_tf.layers.tokenwise_dense import TokenwiseDense


def _pair(policy="float32", units=24, activation=None):
    keras_layer = keras.layers.Dense(units, activation=activation, dtype=policy)
    ours = TokenwiseDense(units, activation=activation, dtype=policy)
    for layer in (keras_layer, ours):
        layer.build((None, None, 16))
    ours.set_weights([w + 0.1 for w in keras_layer.get_weights()])  # a non-zero bias
    keras_layer.set_weights(ours.get_weights())
    return keras_layer, ours


def _outputs_and_gradients(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(tf.square(tf.cast(y, tf.float32)) * tf.range(y.shape[-1], dtype=tf.float32))
    return y, tape.gradient(loss, [x, layer.kernel, layer.bias])


@pytest.mark.parametrize("units", [24, 8], ids=["widening", "narrowing"])  # both input-gradient kernels
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("shape", [(3, 7, 16), (2, 3, 5, 16), (5, 16)])
def test_outputs_and_gradients_equal_keras_dense(shape, activation, units):
    keras_layer, ours = _pair(activation=activation, units=units)
    x = tf.random.stateless_normal(shape, seed=[0, 1])
    (y_keras, grads_keras), (y_ours, grads_ours) = (_outputs_and_gradients(layer, x) for layer in (keras_layer, ours))
    assert y_ours.shape == y_keras.shape == shape[:-1] + (units,)
    np.testing.assert_allclose(y_ours, y_keras, rtol=1e-6, atol=1e-6)
    for ours_gradient, keras_gradient in zip(grads_ours, grads_keras):
        np.testing.assert_allclose(ours_gradient, keras_gradient, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("units", [24, 8], ids=["widening", "narrowing"])
def test_a_layer_without_bias_has_the_gradients_of_keras_dense(units):
    keras_layer, ours = (cls(units, use_bias=False) for cls in (keras.layers.Dense, TokenwiseDense))
    for layer in (keras_layer, ours):
        layer.build((None, None, 16))
    ours.set_weights(keras_layer.get_weights())
    x = tf.random.stateless_normal([3, 7, 16], seed=[0, 3])
    gradients = []
    for layer in (keras_layer, ours):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(layer(x)))
        gradients.append(tape.gradient(loss, [x, layer.kernel]))
    for ours_gradient, keras_gradient in zip(gradients[1], gradients[0]):
        np.testing.assert_allclose(ours_gradient, keras_gradient, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("units", [24, 8], ids=["widening", "narrowing"])
def test_mixed_precision_gradients_are_bfloat16_products(units):
    keras_layer, ours = _pair("mixed_bfloat16", units=units)
    x = tf.random.stateless_normal([3, 7, 16], seed=[0, 4])
    (_, grads_keras), (_, grads_ours) = (_outputs_and_gradients(layer, x) for layer in (keras_layer, ours))
    for ours_gradient, keras_gradient in zip(grads_ours, grads_keras):
        assert ours_gradient.dtype == keras_gradient.dtype
        scale = float(tf.reduce_max(tf.abs(tf.cast(keras_gradient, tf.float32))))
        np.testing.assert_allclose(tf.cast(ours_gradient, tf.float32), tf.cast(keras_gradient, tf.float32),
                                   atol=1e-2 * scale)


def test_static_shape_survives_an_unknown_batch_and_length():
    layer = TokenwiseDense(8)
    function = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None, None, 16])])
    assert function.get_concrete_function().structured_outputs.shape.as_list() == [None, None, 8]


def test_mixed_precision_computes_in_the_compute_dtype():
    keras_layer, ours = _pair("mixed_bfloat16")
    x = tf.random.stateless_normal([3, 7, 16], seed=[0, 2])
    y_keras, y_ours = keras_layer(x), ours(x)
    assert y_ours.dtype == y_keras.dtype == tf.bfloat16
    assert ours.kernel.dtype == "float32"
    np.testing.assert_allclose(tf.cast(y_ours, tf.float32), tf.cast(y_keras, tf.float32), rtol=1e-2, atol=1e-2)


class _Block(keras.layers.Layer):
    """A layer holding its Dense as an attribute, as electra_tf's layers do (Keras keys its weights by name)."""

    def __init__(self, dense_class, **kwargs):
        super().__init__(**kwargs)
        self.projection = dense_class(8, name="projection")

    def call(self, x):
        return self.projection(x)


def test_weight_files_written_with_keras_dense_load(tmp_path):
    keras_model, our_model = (keras.Sequential([_Block(dense_class)]) for dense_class in (keras.layers.Dense,
                                                                                          TokenwiseDense))
    x = np.random.default_rng(0).normal(size=(2, 3, 16)).astype("float32")
    keras_model(x), our_model(x)
    keras_model.layers[0].projection.bias.assign(tf.range(8, dtype=tf.float32))
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    our_model.load_weights(tmp_path / "keras.weights.h5")
    for ours_variable, keras_variable in zip(our_model.weights, keras_model.weights):
        np.testing.assert_array_equal(ours_variable.numpy(), keras_variable.numpy())
    np.testing.assert_array_equal(our_model.layers[0].projection.bias.numpy(), np.arange(8))
    np.testing.assert_allclose(our_model(x), keras_model(x), rtol=1e-6, atol=1e-6)


def _executed_op_types(layer):
    """Op types a TF1 session (Grappler on, as TF Serving runs a SavedModel) executes for `layer` on 3-D input."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, None, 16])
        y = layer(x)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            metadata = tf.compat.v1.RunMetadata()
            session.run(y, {x: np.ones([2, 3, 16], np.float32)},
                        options=tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE),
                        run_metadata=metadata)
    return {node.timeline_label.split(" = ")[1].split("(")[0]
            for device in metadata.step_stats.dev_stats for node in device.node_stats
            if " = " in node.timeline_label}


def test_the_bias_add_fuses_into_the_matmul():
    keras_ops = _executed_op_types(keras.layers.Dense(8))
    our_ops = _executed_op_types(TokenwiseDense(8))
    assert "BiasAdd" in keras_ops  # Keras's tensordot reshapes between the matmul and the bias
    assert "BiasAdd" not in our_ops and any("FusedMatMul" in op for op in our_ops), our_ops


def _tiny_config():
    return ElectraConfig.preset("tiny", vocab_size=300, seq_length=16, max_position_embeddings=32, num_layers=2,
                                  hidden_size=32, num_heads=2, intermediate_size=64, embedding_size=16,
                                  generator_hidden_fraction=0.5)


def _tiny_pretrainer():
    keras.utils.set_random_seed(0)
    return ElectraPretrainer(_tiny_config())


@pytest.mark.parametrize("build", [
    lambda config: ElectraPretrainer(config),
    lambda config: models.ElectraSequenceClassifier(config, num_labels=3),
    lambda config: models.ElectraTokenTagger(config, num_tags=5),
    lambda config: models.ElectraQuestionAnswerer(config, version_2_with_negative=True, answerable_hidden_size=8),
], ids=["pretrainer", "classifier", "tagger", "question_answerer"])
def test_weight_files_address_no_layer_by_our_class_name(build, tmp_path):
    """Keras keys a layer in a model's `layers` list by class name: a TokenwiseDense there would not load a
    weight file written with Dense (the previous release's), so every path must be a Dense's or an attribute's."""
    model = build(_tiny_config())
    if isinstance(model, ElectraPretrainer):
        ids = tf.ones([2, 16], tf.int32)
        model.pretraining_outputs({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids * 0}, seed=[1, 2])
    model.save_weights(tmp_path / "model.weights.h5")
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        paths = []
        weights.visit(paths.append)
    assert any("query_key_value" in path for path in paths)
    assert not [path for path in paths if "tokenwise_dense" in path]


def _losses_and_gradients(pretrainer, batch):
    with tf.GradientTape() as tape:
        outputs = pretrainer.pretraining_outputs(batch, seed=[5, 6])
        loss = outputs["mlm_loss"] + 50.0 * outputs["rtd_loss"]
    return outputs, tape.gradient(loss, pretrainer.trainable_variables)


def test_pretraining_losses_and_gradients_equal_keras_dense(monkeypatch):
    ids = tf.random.stateless_uniform([4, 16], [2, 3], minval=5, maxval=300, dtype=tf.int32)
    batch = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
    pretrainer = _tiny_pretrainer()
    ours, our_gradients = _losses_and_gradients(pretrainer, batch)
    monkeypatch.setattr(TokenwiseDense, "call", keras.layers.Dense.call)
    reference, reference_gradients = _losses_and_gradients(pretrainer, batch)
    for key in ("mlm_loss", "rtd_loss", "mlm_logits", "rtd_logits"):
        np.testing.assert_allclose(ours[key], reference[key], rtol=1e-5, atol=1e-5, err_msg=key)
    np.testing.assert_array_equal(ours["sampled_ids"], reference["sampled_ids"])
    for variable, gradient, reference_gradient in zip(pretrainer.trainable_variables, our_gradients,
                                                      reference_gradients):
        np.testing.assert_allclose(tf.convert_to_tensor(gradient), tf.convert_to_tensor(reference_gradient),
                                   rtol=1e-5, atol=1e-6, err_msg=variable.path)


def test_masked_lm_logits_equal_the_batched_matmul_formulation():
    pretrainer = _tiny_pretrainer()
    head = pretrainer.generator.masked_lm_head
    sequence_output = tf.random.stateless_normal([3, 5, 16], seed=[4, 4])
    hidden = head.layer_norm(gelu(head.transform(sequence_output)))
    reference = tf.matmul(hidden, head.embeddings.word_embeddings, transpose_b=True) + head.output_bias
    logits = head(sequence_output)
    assert logits.shape == (3, 5, 300)
    np.testing.assert_allclose(logits, reference, rtol=1e-6, atol=1e-6)
