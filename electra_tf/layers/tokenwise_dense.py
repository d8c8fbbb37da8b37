"""A Dense layer over the last axis computed as one 2-D matmul, so that the bias add fuses into it."""

import keras
import tensorflow as tf


def input_gradient_by_batch_matmul(features, units):
    """Whether `input_gradient` multiplies by `BatchMatMulV2` for a `[features, units]` kernel (one not narrowing).

    Example:
    >>> input_gradient_by_batch_matmul(256, 1024), input_gradient_by_batch_matmul(1024, 256)
    (True, False)
    """
    return units >= features


def input_gradient(upstream, kernel):
    """`upstream @ kernel^T`, the gradient of `x @ kernel` with respect to `x`, by the faster oneDNN kernel.

    For a layer that does not narrow (`units >= features`: query/key/value, the feed-forward's first layer),
    oneDNN's batched matmul with an adjoint right operand is faster than `MatMul(transpose_b=True)` on the same
    operands; for a narrowing one (the feed-forward's second layer) `MatMul` is. On this project's 2-core AVX-512
    CPU, for 4096 tokens: the gradient of a 256 -> 1024 layer took 11.3 ms against 14.8 ms, of a 1024 -> 256
    layer 11.4 against 11.1; over ELECTRA-Small's train step about 53 ms less
    (`python benchmarks/dense_gradient_matmul.py`). Both compute the same products.

    Example:
    >>> input_gradient(tf.ones((3, 4)), tf.ones((2, 4))).shape
    TensorShape([3, 2])
    """
    if input_gradient_by_batch_matmul(kernel.shape[0], kernel.shape[-1]):
        return tf.raw_ops.BatchMatMulV2(x=upstream, y=kernel, adj_y=True)
    return tf.matmul(upstream, kernel, transpose_b=True)


@tf.custom_gradient
def _matmul(x, kernel):
    """`x @ kernel` with `input_gradient` for the input's gradient."""

    def gradient(upstream):
        return input_gradient(upstream, kernel), tf.matmul(x, upstream, transpose_a=True)

    return tf.matmul(x, kernel), gradient


def tokenwise_matmul(inputs, kernel, bias=None, transpose_kernel=False):
    """`inputs @ kernel + bias` over the last axis of `[..., features]` as one 2-D matmul with the bias after it.

    Flattening first keeps `MatMul` and `BiasAdd` adjacent, so Grappler's remapper fuses them into one kernel.
    The input's gradient of an untransposed kernel comes from `input_gradient` (a faster kernel for widening
    layers); the transposed case (the tied MLM logits) keeps autodiff's.

    Args:
        inputs: `[..., features]` tensor.
        kernel: `[features, units]` (or `[units, features]` with `transpose_kernel`), of `inputs`' dtype.
        bias: optional `[units]` tensor of `inputs`' dtype.
        transpose_kernel: bool. Multiply by the transposed kernel (a tied embedding table, for one).

    Returns: `[..., units]`.

    Example:
    >>> tokenwise_matmul(tf.ones((2, 3, 8)), tf.ones((8, 4)), tf.zeros((4,))).shape
    TensorShape([2, 3, 4])
    """
    units = kernel.shape[0] if transpose_kernel else kernel.shape[-1]
    flat_inputs = tf.reshape(inputs, [-1, inputs.shape[-1]])
    if transpose_kernel:
        outputs = tf.matmul(flat_inputs, kernel, transpose_b=True)
    else:
        outputs = _matmul(flat_inputs, tf.convert_to_tensor(kernel))
    if bias is not None:
        outputs = tf.nn.bias_add(outputs, bias)
    outputs = tf.reshape(outputs, tf.concat([tf.shape(inputs)[:-1], [units]], axis=0))
    outputs.set_shape(inputs.shape[:-1].concatenate([units]))
    return outputs


@keras.saving.register_keras_serializable(package="electra_tf")
class TokenwiseDense(keras.layers.Dense):
    """`keras.layers.Dense` for `[..., features]` inputs, computed on the `[tokens, features]` matrix.

    Keras's Dense multiplies a rank-3 input by `tf.tensordot`, which reshapes around the matmul with a dozen
    small shape ops and adds the bias after the reshape back, where TensorFlow's graph optimiser cannot fuse
    it. Here `tokenwise_matmul` flattens the input once and adds the bias straight after `MatMul` (Grappler's
    remapper then runs the pair as one fused kernel, `_FusedMatMul`, oneDNN's where it is on).
    Same variables and math as Keras's; quantized layers take Keras's own path. Weight files and checkpoints of
    `Dense` load unchanged where the layer is an attribute of a layer (attention, transformer blocks, heads): Keras
    addresses those by attribute name. Keras's `.weights.h5` addresses a layer in a model's `layers` list by its
    class name instead, so heads held directly by task models keep `keras.layers.Dense`.

    Example:
    >>> layer = TokenwiseDense(4)
    >>> layer(tf.ones((2, 3, 8))).shape
    TensorShape([2, 3, 4])
    """

    def call(self, inputs, training=None):
        if self.quantization_mode is not None:
            return super().call(inputs, training=training)
        outputs = tokenwise_matmul(inputs, self.kernel, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs
