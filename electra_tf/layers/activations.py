"""The exact (erf) GELU with a hand-written gradient."""

import math

import tensorflow as tf

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@tf.custom_gradient
def gelu(x):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF (BERT's and ELECTRA's exact form, not tanh).

    Same values as `tf.nn.gelu(x, approximate=False)`; the gradient `Phi(x) + x * phi(x)` is computed in
    one expression from the saved CDF, where autodiff of the erf form keeps several intermediate
    `[batch, seq, ffn]` tensors and runs several more passes over them.

    Example:
    >>> [round(v, 4) for v in gelu(tf.constant([-1.0, 0.0, 1.0])).numpy().tolist()]
    [-0.1587, 0.0, 0.8413]
    """
    cdf = 0.5 * tf.math.erfc(x * tf.cast(-_INV_SQRT2, x.dtype))

    def gradient(upstream):
        density = tf.exp(-0.5 * tf.square(x)) * tf.cast(_INV_SQRT_2PI, x.dtype)
        return upstream * (cdf + x * density)

    return x * cdf, gradient
