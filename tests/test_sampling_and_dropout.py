"""The pretraining step's random draws: categorical sampling of replacements and 16-bit dropout masks.

Both replace a costlier draw with one of the same distribution (Gumbel-max noise over the whole vocabulary;
one float32 uniform number per dropped element), so the checks here are distributional: frequencies against
the softmax, drop rates against the rate, gradients against the mask, and the layer's seed stream and
variables against Keras's `Dropout`.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from electra_tf.layers.dropout import SixteenBitDropout, drop_threshold, sixteen_bit_dropout
from electra_tf.sampling import categorical_sample, gumbel_max_sample

PROBABILITIES = np.array([0.1, 0.2, 0.3, 0.4])
ROWS = 40_000


def _frequencies(ids, classes):
    return np.bincount(np.asarray(ids).ravel(), minlength=classes) / np.asarray(ids).size


def test_categorical_sample_matches_the_softmax_and_gumbel_max():
    logits = tf.math.log(tf.tile(tf.constant([PROBABILITIES], tf.float32), [ROWS, 1]))
    categorical = _frequencies(categorical_sample(logits, seed=[5, 6]), 4)
    gumbel = _frequencies(gumbel_max_sample(logits, seed=[5, 6]), 4)
    tolerance = 4 * np.sqrt(PROBABILITIES * (1 - PROBABILITIES) / ROWS)  # 4 standard errors
    np.testing.assert_array_less(np.abs(categorical - PROBABILITIES), tolerance)
    np.testing.assert_array_less(np.abs(categorical - gumbel), 2 * tolerance)


def test_categorical_sample_temperature_disallow_shapes_and_seed():
    logits = tf.math.log(tf.tile(tf.constant([[[0.7, 0.1, 0.1, 0.1]]]), [100, 200, 1]))  # [100, 200, 4]
    sampled = categorical_sample(logits, seed=[1, 2])
    assert sampled.shape == (100, 200) and sampled.dtype == tf.int32
    np.testing.assert_array_equal(sampled, categorical_sample(logits, seed=[1, 2]))
    assert not np.array_equal(sampled, categorical_sample(logits, seed=[1, 3]))
    cold = categorical_sample(logits, seed=[1, 2], temperature=1e-8)
    assert set(cold.numpy().ravel().tolist()) == {0}
    hot = _frequencies(categorical_sample(logits, seed=[1, 2], temperature=1e6), 4)
    np.testing.assert_allclose(hot, 0.25, atol=0.01)
    banned = categorical_sample(logits, seed=[1, 2], disallow_ids=tf.zeros([100, 200], tf.int32))
    assert 0 not in set(banned.numpy().ravel().tolist())
    bf16 = categorical_sample(tf.cast(logits, tf.bfloat16), seed=[1, 2], temperature=1e-8)
    assert set(bf16.numpy().ravel().tolist()) == {0}


def test_categorical_sample_keeps_ids_in_range_for_non_finite_logits():
    logits = tf.constant([[0.0, float("nan"), 1.0], [float("inf"), 0.0, 0.0], [0.0, 0.0, 0.0]])
    sampled = categorical_sample(logits, seed=[0, 0]).numpy()
    assert ((sampled >= 0) & (sampled < 3)).all()


@pytest.mark.parametrize("rate", [0.1, 0.25, 0.5])
def test_sixteen_bit_dropout_drops_at_the_rate_and_keeps_the_expectation(rate):
    x = tf.ones([1000, 1000])
    y = sixteen_bit_dropout(x, rate, seed=tf.constant([3, 4]))
    dropped = float(tf.reduce_mean(tf.cast(y == 0, tf.float32)))
    assert dropped == pytest.approx(rate, abs=4 * np.sqrt(rate * (1 - rate) / 1e6))
    assert abs(drop_threshold(rate) / 65536 - rate) <= 1 / 131072
    kept_value = 65536 / (65536 - drop_threshold(rate))
    np.testing.assert_allclose(sorted(set(y.numpy().ravel().tolist())), [0.0, kept_value], rtol=1e-6)
    assert float(tf.reduce_mean(y)) == pytest.approx(1.0, abs=0.005)


def test_sixteen_bit_dropout_gradient_is_the_mask_and_odd_sizes_work():
    x = tf.random.normal([3, 5, 7])  # 105 elements: three 16-bit words of the last 64-bit word left over
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = sixteen_bit_dropout(x, 0.5, seed=tf.constant([1, 1]))
        loss = tf.reduce_sum(y * 3.0)
    gradient = tape.gradient(loss, x).numpy()
    kept = y.numpy() != 0
    assert y.shape == x.shape and 0 < kept.sum() < kept.size
    np.testing.assert_allclose(gradient[kept], 3.0 * 65536 / 32768)
    np.testing.assert_array_equal(gradient[~kept], 0.0)
    np.testing.assert_allclose(y.numpy()[kept], 2.0 * x.numpy()[kept], rtol=1e-6)


def test_sixteen_bit_dropout_layer_is_keras_dropout_where_it_matters(tmp_path):
    ours, theirs = SixteenBitDropout(0.1, seed=7, name="dropout"), keras.layers.Dropout(0.1, seed=7, name="dropout")
    x = tf.ones([4, 64])
    np.testing.assert_array_equal(ours(x, training=False), x)
    first, second = ours(x, training=True), ours(x, training=True)
    assert not np.array_equal(first, second)  # the stream advances each call
    theirs(x, training=True), theirs(x, training=True)
    np.testing.assert_array_equal(ours.variables[0].numpy(), theirs.variables[0].numpy())  # same seed stream

    def model_with(dropout_class):
        inputs = keras.Input((64,))
        return keras.Model(inputs, keras.layers.Dense(8, name="dense")(dropout_class(0.1, name="dropout")(inputs)))

    keras_model, our_model = model_with(keras.layers.Dropout), model_with(SixteenBitDropout)
    keras_model.save_weights(tmp_path / "keras_dropout.weights.h5")
    our_model.load_weights(tmp_path / "keras_dropout.weights.h5")  # a weights file written before this layer
    assert [v.path for v in our_model.weights] == [v.path for v in keras_model.weights]
    for theirs_variable, ours_variable in zip(keras_model.weights, our_model.weights):
        np.testing.assert_array_equal(ours_variable.numpy(), theirs_variable.numpy())
    inputs = keras.Input((64,))
    model = keras.Model(inputs, SixteenBitDropout(0.3, seed=1)(inputs))
    model.save(tmp_path / "dropout.keras")
    restored = keras.saving.load_model(tmp_path / "dropout.keras")
    assert isinstance(restored.layers[-1], SixteenBitDropout) and restored.layers[-1].rate == 0.3


def test_sixteen_bit_dropout_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: rate=1.0"):
        sixteen_bit_dropout(tf.ones([2]), 1.0, seed=[0, 0])
    with pytest.raises(ValueError, match="noise_shape"):
        SixteenBitDropout(0.1, noise_shape=(1, 4))
