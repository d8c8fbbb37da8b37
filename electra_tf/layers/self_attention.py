"""Multi-head self-attention with one fused query/key/value projection."""

import math

import keras
import tensorflow as tf

from electra_tf.layers.dropout import SixteenBitDropout
from electra_tf.layers.initializers import truncated_normal
from electra_tf.layers.tokenwise_dense import TokenwiseDense


@keras.saving.register_keras_serializable(package="electra_tf")
class SelfAttention(keras.layers.Layer):
    """BERT self-attention: softmax(Q K^T / sqrt(d) + mask) V, then an output projection.

    Query, key and value come from one `[hidden, 3 * hidden]` matmul (one large GEMM is faster than three
    small ones on CPUs and GPUs alike); the converters split and join it for Hugging Face checkpoints.

    Args:
        hidden_size: int. Width of the input and output.
        num_heads: int. Attention heads; `hidden_size` must be a multiple of it.
        attention_dropout: float. Dropout on the attention probabilities.
        initializer_range: float. Stddev of the truncated-normal initializer.

    Call arguments:
        hidden_states: `[batch, seq, hidden]`.
        attention_bias: `[batch, 1, 1, seq]` additive bias, 0 for real tokens and a large negative number
            for padding (see `attention_bias_from_mask`).

    Returns: `[batch, seq, hidden]` (before dropout, residual and LayerNorm, which `TransformerBlock` adds).

    Example:
    >>> layer = SelfAttention(hidden_size=64, num_heads=2)
    >>> x = tf.random.normal((2, 5, 64))
    >>> layer(x, attention_bias_from_mask(tf.ones((2, 5), tf.int32), x.dtype)).shape
    TensorShape([2, 5, 64])
    """

    def __init__(self, hidden_size, num_heads, attention_dropout=0.1, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        if hidden_size % num_heads:
            raise ValueError(
                f"Expected hidden_size to be a multiple of num_heads. Received: hidden_size={hidden_size}, "
                f"num_heads={num_heads}"
            )
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        self.attention_dropout = attention_dropout
        self.initializer_range = initializer_range
        # === Layers ===
        initializer = truncated_normal(initializer_range)
        self.query_key_value = TokenwiseDense(
            3 * hidden_size, kernel_initializer=initializer, dtype=self.dtype_policy, name="query_key_value"
        )
        self.output_projection = TokenwiseDense(
            hidden_size, kernel_initializer=initializer, dtype=self.dtype_policy, name="output_projection"
        )
        self.probabilities_dropout = SixteenBitDropout(attention_dropout, name="probabilities_dropout")

    def build(self, input_shape):
        self.query_key_value.build(input_shape)
        self.output_projection.build(input_shape)
        self.built = True

    def call(self, hidden_states, attention_bias, training=None):
        batch_size, seq_length = tf.shape(hidden_states)[0], tf.shape(hidden_states)[1]
        qkv = self.query_key_value(hidden_states)  # [batch, seq, 3 * hidden]
        qkv = tf.reshape(qkv, [batch_size, seq_length, 3, self.num_heads, self.head_size])
        # One transpose puts query, key and value first; unstacking the leading axis then shares its buffer,
        # where splitting the last axis and transposing each part copied the tensor twice. The gradient is
        # one stack and one transpose (slicing would write a zero-filled copy of the whole tensor per part).
        qkv = tf.transpose(qkv, [2, 0, 3, 1, 4])  # [3, batch, heads, seq, head_size]
        query, key, value = tf.unstack(qkv, axis=0)  # each [batch, heads, seq, head_size]
        query = query * tf.cast(1.0 / math.sqrt(self.head_size), query.dtype)
        scores = tf.matmul(query, key, transpose_b=True)  # [batch, heads, seq, seq]
        scores = scores + tf.cast(attention_bias, scores.dtype)
        probabilities = tf.nn.softmax(scores, axis=-1)
        probabilities = self.probabilities_dropout(probabilities, training=training)
        context = tf.matmul(probabilities, value)  # [batch, heads, seq, head_size]
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch_size, seq_length, self.hidden_size])
        return self.output_projection(context)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            num_heads=self.num_heads,
            attention_dropout=self.attention_dropout,
            initializer_range=self.initializer_range,
        )
        return config


def attention_bias_from_mask(input_mask, dtype=tf.float32):
    """Turns a `[batch, seq]` 1/0 padding mask into a `[batch, 1, 1, seq]` additive attention bias.

    Padding gets -1e4 rather than -inf: exp() still underflows to exactly 0 in float32, bfloat16 and
    float16, and a fully padded row stays finite.

    Example:
    >>> attention_bias_from_mask(tf.constant([[1, 0]])).numpy().ravel().tolist()
    [0.0, -10000.0]
    """
    mask = tf.cast(input_mask, dtype)
    return ((1.0 - mask) * -10000.0)[:, tf.newaxis, tf.newaxis, :]
