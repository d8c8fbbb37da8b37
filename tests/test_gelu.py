"""The exact GELU and its hand-written gradient against TensorFlow's, in float32 and half precision."""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.layers.activations import gelu


def _value_and_gradient(function, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
    return y, tape.gradient(y, x, output_gradients=upstream)


def test_float32_equals_tf_nn_gelu_and_its_autodiff_gradient():
    x = tf.random.stateless_normal([64, 33], seed=[0, 1]) * 3.0
    upstream = tf.random.stateless_normal([64, 33], seed=[0, 2])
    y, dx = _value_and_gradient(gelu, x, upstream)
    y_tf, dx_tf = _value_and_gradient(lambda v: tf.nn.gelu(v, approximate=False), x, upstream)
    np.testing.assert_allclose(y, y_tf, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, dx_tf, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float16])
def test_half_precision_is_the_float32_result_rounded(dtype):
    """erfc and exp run in float32 (half-precision kernels are slow on CPUs); only the products are rounded."""
    x = tf.cast(tf.random.stateless_normal([64, 33], seed=[1, 1]) * 3.0, dtype)
    upstream = tf.cast(tf.random.stateless_normal([64, 33], seed=[1, 2]), dtype)
    y, dx = _value_and_gradient(gelu, x, upstream)
    assert y.dtype == dx.dtype == dtype
    y_exact, dx_exact = _value_and_gradient(gelu, tf.cast(x, tf.float32), tf.cast(upstream, tf.float32))
    # Two roundings at most (the CDF, then the product): within two units in the last place of the result.
    unit = {tf.bfloat16: 2.0 ** -7, tf.float16: 2.0 ** -10}[dtype]
    for ours, exact in ((y, y_exact), (dx, dx_exact)):
        ours, exact = tf.cast(ours, tf.float32).numpy(), exact.numpy()
        np.testing.assert_array_less(np.abs(ours - exact), 2 * unit * np.abs(exact) + 1e-6)
