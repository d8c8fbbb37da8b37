"""LayerNorm over the last axis with a hand-written gradient: fewer passes over the activations than autodiff."""

import keras
import tensorflow as tf


def layer_norm_last_axis(x, gamma, beta, epsilon):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over the last axis, with a closed-form gradient.

    Autodiff of the composed form (Keras's `ops.layer_normalization`) broadcasts and re-reduces the mean and
    variance paths separately; the closed form needs the normalised input and `1 / sqrt(var + epsilon)`
    only: `dx = inv * (g - mean(g) - x_hat * mean(g * x_hat))` with `g = dy * gamma`.

    Args:
        x: `[..., features]` float tensor (float32 for the statistics: the caller casts).
        gamma: `[features]` scale. beta: `[features]` offset, both of `x`'s dtype.
        epsilon: float. Added to the variance.

    Returns: a tensor of `x`'s shape and dtype.

    Example:
    >>> y = layer_norm_last_axis(tf.constant([[1.0, 3.0]]), tf.ones([2]), tf.zeros([2]), 1e-12)
    >>> [round(v, 4) for v in y.numpy().ravel().tolist()]
    [-1.0, 1.0]
    """

    @tf.custom_gradient
    def normalize(x, gamma, beta):
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        centered = x - mean
        inverse_std = tf.math.rsqrt(tf.reduce_mean(tf.square(centered), axis=-1, keepdims=True) + epsilon)
        normalized = centered * inverse_std  # [..., features]

        def gradient(upstream):
            leading_axes = list(range(upstream.shape.rank - 1))
            scaled = upstream * gamma
            projection = tf.reduce_mean(scaled * normalized, axis=-1, keepdims=True)
            d_x = inverse_std * (scaled - tf.reduce_mean(scaled, axis=-1, keepdims=True) - normalized * projection)
            d_gamma = tf.reduce_sum(upstream * normalized, axis=leading_axes)
            d_beta = tf.reduce_sum(upstream, axis=leading_axes)
            return d_x, d_gamma, d_beta

        return normalized * gamma + beta, gradient

    return normalize(x, gamma, beta)


@keras.saving.register_keras_serializable(package="electra_tf")
class LastAxisLayerNorm(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization(axis=-1)` computed by `layer_norm_last_axis`: same variables, same math.

    A subclass, so its `gamma` and `beta` sit where Keras's do and weight files and checkpoints written with
    `keras.layers.LayerNormalization` load unchanged. As Keras does, half-precision inputs are normalised in
    float32 and the result is cast to the layer's compute dtype. Only the last axis with both scale and
    centre (BERT's LayerNorm) is supported.

    Example:
    >>> layer = LastAxisLayerNorm(epsilon=1e-12)
    >>> [round(v, 4) for v in layer(tf.constant([[1.0, 3.0]])).numpy().ravel().tolist()]
    [-1.0, 1.0]
    """

    def __init__(self, epsilon=1e-12, **kwargs):
        for name, supported in (("center", True), ("scale", True), ("rms_scaling", False)):
            if name in kwargs and kwargs[name] != supported:
                raise ValueError(
                    f"LastAxisLayerNorm supports {name}={supported} only. Received: {name}={kwargs[name]}"
                )
        super().__init__(epsilon=epsilon, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)  # Keras keeps `axis` as a list here ([-1] by default)
        if [axis % len(input_shape) for axis in self.axis] != [len(input_shape) - 1]:
            raise ValueError(
                f"LastAxisLayerNorm normalises the last axis only. Received: axis={self.axis} for an input of "
                f"shape {tuple(input_shape)}"
            )

    def call(self, inputs):
        x = tf.cast(inputs, tf.float32) if inputs.dtype in (tf.bfloat16, tf.float16) else inputs
        outputs = layer_norm_last_axis(x, tf.cast(self.gamma, x.dtype), tf.cast(self.beta, x.dtype), self.epsilon)
        return tf.cast(outputs, self.compute_dtype)
