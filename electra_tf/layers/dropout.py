"""Dropout whose keep masks are cut from 16-bit random words: a quarter of the random words Keras's draws."""

import keras
import tensorflow as tf

_WORD_VALUES = 65536  # values of one 16-bit random word


def drop_threshold(rate):
    """The 16-bit threshold below which an element is dropped: P(drop) = threshold / 65536 ≈ rate.

    Within 1 / 131072 of `rate` (0.1 → 6554 / 65536 = 0.100006).

    Example:
    >>> drop_threshold(0.1)
    6554
    """
    return int(round(rate * _WORD_VALUES))


@tf.custom_gradient
def _keep_and_scale(inputs, keep, scale):
    """`inputs * scale` where `keep`, else 0; the gradient is the same select of the upstream gradient."""

    def gradient(upstream):
        return tf.where(keep, upstream * scale, tf.zeros_like(upstream)), None, None

    return tf.where(keep, inputs * scale, tf.zeros_like(inputs)), gradient


def sixteen_bit_dropout(inputs, rate, seed):
    """Inverted dropout whose masks come from the quarters of stateless 64-bit Philox words.

    `tf.nn.experimental.stateless_dropout` (what Keras's `Dropout` calls) draws one float32 uniform number
    per element; a keep decision needs far fewer bits. Here each 64-bit word gives four 16-bit words, each
    compared with `drop_threshold(rate)`, so the random-number kernel writes a quarter of the words.
    The kept elements are scaled by `65536 / (65536 - threshold)`, the inverse of the realised keep
    probability, so the expectation is exactly the input's. The mask stream differs from Keras's for the same
    seed.

    Args:
        inputs: float tensor of any shape.
        rate: float in [0, 1). Fraction of elements to drop.
        seed: `[2]` int32 seed of the stateless generator.

    Returns: a tensor of `inputs`' shape and dtype.

    Example:
    >>> x = tf.ones([4, 1000])
    >>> y = sixteen_bit_dropout(x, 0.1, seed=[0, 1])
    >>> round(float(tf.reduce_mean(tf.cast(y == 0, tf.float32))), 2)
    0.1
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"Expected a dropout rate in [0, 1). Received: rate={rate}")
    threshold = drop_threshold(rate)
    size = inputs.shape.num_elements() or tf.size(inputs)  # static where known: no slice for a multiple of 4
    words = tf.random.stateless_uniform(
        [(size + 3) // 4], seed=seed, minval=None, maxval=None, dtype=tf.int64
    )  # [ceil(size / 4)] full-range 64-bit words
    quarters = tf.reshape(tf.bitcast(words, tf.uint16), [-1])  # [4 * ceil(size / 4)] 16-bit words
    if not isinstance(size, int) or size % 4:
        quarters = quarters[:size]
    keep = tf.reshape(quarters >= tf.constant(threshold, tf.uint16), tf.shape(inputs))
    scale = tf.constant(_WORD_VALUES / (_WORD_VALUES - threshold), inputs.dtype)
    return _keep_and_scale(inputs, keep, scale)


@keras.saving.register_keras_serializable(package="electra_tf")
class SixteenBitDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` with masks from `sixteen_bit_dropout`: same rate, seed stream and variables.

    A subclass, so its seed generator state sits where Keras's does: checkpoints and weight files of models
    built with `keras.layers.Dropout` load unchanged, and the training runs' checkpoints carry its stream.
    `noise_shape` is not supported (no ELECTRA layer uses it).

    Args:
        rate: float in [0, 1). Fraction of the input units to drop.
        seed: optional int. Seed of the layer's `keras.random.SeedGenerator`.

    Example:
    >>> layer = SixteenBitDropout(0.5, seed=0)
    >>> y = layer(tf.ones([2, 8]), training=True)
    >>> sorted(set(y.numpy().ravel().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, rate, seed=None, **kwargs):
        if kwargs.get("noise_shape") is not None:
            raise ValueError(f"SixteenBitDropout has no noise_shape. Received: noise_shape={kwargs['noise_shape']}")
        super().__init__(rate, seed=seed, **kwargs)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        # The generator's state is int64 (a TensorFlow placement rule); stateless kernels take int32 seeds.
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        return sixteen_bit_dropout(inputs, self.rate, seed)
