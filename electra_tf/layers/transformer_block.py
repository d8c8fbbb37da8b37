"""One post-LayerNorm BERT transformer block."""

import keras
import tensorflow as tf

from electra_tf.layers.activations import gelu
from electra_tf.layers.dropout import SixteenBitDropout
from electra_tf.layers.initializers import truncated_normal
from electra_tf.layers.layer_norm import LastAxisLayerNorm
from electra_tf.layers.self_attention import SelfAttention
from electra_tf.layers.tokenwise_dense import TokenwiseDense


@keras.saving.register_keras_serializable(package="electra_tf")
class TransformerBlock(keras.layers.Layer):
    """x = LN(x + Dropout(Attention(x))); x = LN(x + Dropout(W2 GELU(W1 x))), exactly as BERT and ELECTRA.

    GELU is the exact (erf) form; LayerNorm statistics are computed in float32 under mixed precision.

    Args:
        hidden_size: int. Width of the block.
        num_heads: int. Attention heads.
        intermediate_size: int. Feed-forward width (4 x hidden in every ELECTRA size).
        dropout: float. Dropout on the attention output and the feed-forward output.
        attention_dropout: float. Dropout on the attention probabilities.
        layer_norm_epsilon: float. LayerNorm epsilon (1e-12 in BERT).
        initializer_range: float. Stddev of the truncated-normal initializer.

    Call arguments:
        hidden_states: `[batch, seq, hidden]`.
        attention_bias: `[batch, 1, 1, seq]` additive padding bias.

    Example:
    >>> from electra_tf.layers.self_attention import attention_bias_from_mask
    >>> block = TransformerBlock(hidden_size=64, num_heads=1, intermediate_size=256)
    >>> x = tf.random.normal((2, 5, 64))
    >>> block(x, attention_bias_from_mask(tf.ones((2, 5)))).shape
    TensorShape([2, 5, 64])
    """

    def __init__(
        self,
        hidden_size,
        num_heads,
        intermediate_size,
        dropout=0.1,
        attention_dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.dropout_rate = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        # === Layers ===
        initializer = truncated_normal(initializer_range)
        self.attention = SelfAttention(
            hidden_size, num_heads, attention_dropout, initializer_range, dtype=self.dtype_policy, name="attention"
        )
        self.attention_dropout_layer = SixteenBitDropout(dropout, name="attention_output_dropout")
        self.attention_layer_norm = LastAxisLayerNorm(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="attention_layer_norm"
        )
        self.intermediate = TokenwiseDense(
            intermediate_size, kernel_initializer=initializer, dtype=self.dtype_policy, name="intermediate"
        )
        self.feedforward_output = TokenwiseDense(
            hidden_size, kernel_initializer=initializer, dtype=self.dtype_policy, name="feedforward_output"
        )
        self.feedforward_dropout = SixteenBitDropout(dropout, name="feedforward_dropout")
        self.feedforward_layer_norm = LastAxisLayerNorm(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="feedforward_layer_norm"
        )

    def build(self, input_shape):
        self.attention.build(input_shape)
        self.attention_layer_norm.build(input_shape)
        self.intermediate.build(input_shape)
        self.feedforward_output.build(tuple(input_shape[:-1]) + (self.intermediate_size,))
        self.feedforward_layer_norm.build(input_shape)
        self.built = True

    def call(self, hidden_states, attention_bias, training=None):
        attention_output = self.attention(hidden_states, attention_bias, training=training)
        attention_output = self.attention_dropout_layer(attention_output, training=training)
        hidden_states = self.attention_layer_norm(hidden_states + attention_output)
        intermediate = gelu(self.intermediate(hidden_states))  # [batch, seq, ffn]
        feedforward_output = self.feedforward_dropout(self.feedforward_output(intermediate), training=training)
        return self.feedforward_layer_norm(hidden_states + feedforward_output)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            num_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            dropout=self.dropout_rate,
            attention_dropout=self.attention_dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
        )
        return config
