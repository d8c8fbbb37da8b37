"""A Dense layer over the last axis computed as one 2-D matmul, so that the bias add fuses into it."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="electra_tf")
class TokenwiseDense(keras.layers.Dense):
    """`keras.layers.Dense` for `[..., features]` inputs, computed on the `[tokens, features]` matrix.

    Keras's Dense multiplies a rank-3 input by `tf.tensordot`, which reshapes around the matmul with a dozen
    small shape ops and adds the bias after the reshape back, where TensorFlow's graph optimiser cannot fuse
    it. Here the input is flattened once, the bias added straight after `MatMul` (Grappler's remapper then runs
    the pair as one fused kernel, `_FusedMatMul`, oneDNN's where it is on) and the result reshaped to `[..., units]`.
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
        kernel = self.kernel
        flat = tf.reshape(inputs, [-1, kernel.shape[0]])
        outputs = tf.matmul(flat, kernel)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        outputs = tf.reshape(outputs, tf.concat([tf.shape(inputs)[:-1], [self.units]], axis=0))
        outputs.set_shape(inputs.shape[:-1].concatenate([self.units]))
        return outputs
