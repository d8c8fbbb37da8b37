"""LastAxisLayerNorm against keras.layers.LayerNormalization: outputs, gradients, mixed precision, weight files."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from electra_tf.layers.layer_norm import LastAxisLayerNorm


def _pair(policy="float32", features=48):
    keras_layer = keras.layers.LayerNormalization(epsilon=1e-12, dtype=policy)
    ours = LastAxisLayerNorm(epsilon=1e-12, dtype=policy)
    for layer in (keras_layer, ours):
        layer.build((None, features))
    gamma = tf.random.stateless_normal([features], seed=[0, 1]) * 0.2 + 1.0
    beta = tf.random.stateless_normal([features], seed=[0, 2]) * 0.2
    for layer in (keras_layer, ours):
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    return keras_layer, ours


def _outputs_and_gradients(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        y_float = tf.cast(y, tf.float32)
        loss = tf.reduce_sum(y_float * tf.range(y.shape[-1], dtype=tf.float32) + tf.square(y_float))
    return y, tape.gradient(loss, [x, layer.gamma, layer.beta])


def test_outputs_and_gradients_equal_keras_layer_normalization():
    keras_layer, ours = _pair()
    x = tf.random.stateless_normal([4, 9, 48], seed=[1, 1]) * 3.0 + 0.5
    (y_keras, grads_keras), (y_ours, grads_ours) = (_outputs_and_gradients(layer, x) for layer in (keras_layer, ours))
    np.testing.assert_allclose(y_ours, y_keras, rtol=1e-5, atol=1e-5)
    for ours_gradient, keras_gradient in zip(grads_ours, grads_keras):
        np.testing.assert_allclose(ours_gradient, keras_gradient, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_normalises_in_float32_and_returns_the_compute_dtype(policy):
    keras_layer, ours = _pair(policy)
    x = tf.cast(tf.random.stateless_normal([4, 9, 48], seed=[2, 2]), keras_layer.compute_dtype)
    (y_keras, grads_keras), (y_ours, grads_ours) = (_outputs_and_gradients(layer, x) for layer in (keras_layer, ours))
    assert y_ours.dtype == y_keras.dtype == keras_layer.compute_dtype
    assert ours.gamma.dtype == "float32"
    # float32 statistics computed in another order may round an output to the neighbouring half-precision value
    np.testing.assert_allclose(tf.cast(y_ours, tf.float32), tf.cast(y_keras, tf.float32), rtol=0, atol=8e-3)
    for ours_gradient, keras_gradient in zip(grads_ours, grads_keras):
        np.testing.assert_allclose(tf.cast(ours_gradient, tf.float32), tf.cast(keras_gradient, tf.float32),
                                   rtol=2e-2, atol=2e-2)


class _Block(keras.Model):
    """A model holding its LayerNorm as an attribute, as every electra_tf layer does (weights keyed by name)."""

    def __init__(self, norm_class, name):
        super().__init__(name=name)
        self.dense = keras.layers.Dense(8, name="dense")
        self.layer_norm = norm_class(epsilon=1e-12, name="layer_norm")

    def call(self, x):
        return self.layer_norm(self.dense(x))


def test_weight_files_written_with_keras_layer_normalization_load(tmp_path):
    keras_block = _Block(keras.layers.LayerNormalization, name="block")
    our_block = _Block(LastAxisLayerNorm, name="block")
    x = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    keras_block(x), our_block(x)
    keras_block.layer_norm.gamma.assign(tf.range(8, dtype=tf.float32))
    keras_block.save_weights(tmp_path / "keras.weights.h5")
    our_block.load_weights(tmp_path / "keras.weights.h5")
    for ours_variable, keras_variable in zip(our_block.weights, keras_block.weights):
        assert ours_variable.path == keras_variable.path
        np.testing.assert_array_equal(ours_variable.numpy(), keras_variable.numpy())
    np.testing.assert_allclose(our_block(x), keras_block(x), rtol=1e-5, atol=1e-5)


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input((8,))
    model = keras.Model(inputs, LastAxisLayerNorm(epsilon=1e-12)(keras.layers.Dense(8)(inputs)))
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(restored.layers[-1], LastAxisLayerNorm) and restored.layers[-1].epsilon == 1e-12
    x = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    np.testing.assert_allclose(restored(x), model(x), rtol=1e-6)


def test_other_axes_and_options_are_refused():
    with pytest.raises(ValueError, match=r"the last axis only. Received: axis=\[1\] for an input of shape \(2, 3, 4\)"):
        LastAxisLayerNorm(axis=1).build((2, 3, 4))
    with pytest.raises(ValueError, match=r"Received: rms_scaling=True"):
        LastAxisLayerNorm(rms_scaling=True)
