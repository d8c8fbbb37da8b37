"""The discriminator's replaced-token-detection head."""

import keras
import tensorflow as tf

from electra_tf.layers.activations import gelu
from electra_tf.layers.initializers import truncated_normal
from electra_tf.layers.tokenwise_dense import TokenwiseDense


@keras.saving.register_keras_serializable(package="electra_tf")
class ReplacedTokenHead(keras.layers.Layer):
    """Dense(hidden, GELU) -> Dense(1): one logit per token, positive meaning "replaced".

    Args:
        hidden_size: int. Width of the hidden transform.
        initializer_range: float. Stddev of the truncated-normal initializer.

    Call arguments:
        sequence_output: `[batch, seq, hidden]`.

    Returns: float32 logits `[batch, seq]`.

    Example:
    >>> head = ReplacedTokenHead(hidden_size=32)
    >>> head(tf.random.normal((2, 7, 32))).shape
    TensorShape([2, 7])
    """

    def __init__(self, hidden_size, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.initializer_range = initializer_range
        # === Layers ===
        initializer = truncated_normal(initializer_range)
        self.transform = TokenwiseDense(
            hidden_size, kernel_initializer=initializer, dtype=self.dtype_policy, name="transform"
        )
        self.logit = TokenwiseDense(1, kernel_initializer=initializer, dtype=self.dtype_policy, name="logit")

    def build(self, input_shape):
        self.transform.build(input_shape)
        self.logit.build(tuple(input_shape[:-1]) + (self.hidden_size,))
        self.built = True

    def call(self, sequence_output):
        hidden = gelu(self.transform(sequence_output))
        return tf.cast(tf.squeeze(self.logit(hidden), axis=-1), tf.float32)

    def get_config(self):
        config = super().get_config()
        config.update(hidden_size=self.hidden_size, initializer_range=self.initializer_range)
        return config
