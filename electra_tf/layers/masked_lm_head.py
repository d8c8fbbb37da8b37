"""The generator's masked-LM head: transform, then the tied (transposed) word-embedding projection."""

import keras
import tensorflow as tf

from electra_tf.layers.activations import gelu
from electra_tf.layers.embeddings import ElectraEmbeddings
from electra_tf.layers.initializers import truncated_normal
from electra_tf.layers.layer_norm import LastAxisLayerNorm
from electra_tf.layers.tokenwise_dense import TokenwiseDense, tokenwise_matmul


def gather_positions(sequence, positions):
    """Gathers the vectors at given positions of each sequence.

    Args:
        sequence: `[batch, seq, width]`.
        positions: `[batch, num_positions]` int32.

    Returns: `[batch, num_positions, width]`.

    Example:
    >>> seq = tf.reshape(tf.range(12.0), (2, 3, 2))
    >>> gather_positions(seq, tf.constant([[2], [0]])).numpy().tolist()
    [[[4.0, 5.0]], [[6.0, 7.0]]]
    """
    return tf.gather(sequence, positions, batch_dims=1)


@keras.saving.register_keras_serializable(package="electra_tf")
class MaskedLMHead(keras.layers.Layer):
    """Dense(embedding_size, GELU) -> LayerNorm -> x @ word_embeddings^T + bias.

    The output projection is the word-embedding table of `embeddings` (the layer object itself is passed
    in, as keras-hub's `MaskedLMHead` takes `token_embedding`), so the generator's predictions and both
    networks' inputs use one table. Give `positions` to compute logits only where tokens were masked:
    the full `[batch, seq, vocab]` tensor is never built during training.

    Args:
        embeddings: `ElectraEmbeddings`. The shared embedding layer whose word table is tied.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal initializer.

    Call arguments:
        sequence_output: `[batch, seq, hidden]`.
        positions: optional `[batch, num_positions]` int32; without it, every position is projected.

    Returns: float32 logits, `[batch, num_positions, vocab]` (or `[batch, seq, vocab]`).

    Example:
    >>> embeddings = ElectraEmbeddings(vocab_size=50, embedding_size=16, max_position_embeddings=8)
    >>> embeddings.build()
    >>> head = MaskedLMHead(embeddings)
    >>> head(tf.random.normal((2, 8, 32)), positions=tf.constant([[1, 2], [3, 4]])).shape
    TensorShape([2, 2, 50])
    """

    def __init__(self, embeddings, layer_norm_epsilon=1e-12, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(embeddings, ElectraEmbeddings):
            raise ValueError(
                f"Expected `embeddings` to be an ElectraEmbeddings layer. Received: {type(embeddings).__name__}"
            )
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        # === Layers ===
        self.embeddings = embeddings
        self.transform = TokenwiseDense(
            embeddings.embedding_size,
            kernel_initializer=truncated_normal(initializer_range),
            dtype=self.dtype_policy,
            name="transform",
        )
        self.layer_norm = LastAxisLayerNorm(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )

    def build(self, input_shape):
        self.transform.build(input_shape)
        self.layer_norm.build(tuple(input_shape[:-1]) + (self.embeddings.embedding_size,))
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.embeddings.vocab_size,), initializer="zeros"
        )
        self.built = True

    def call(self, sequence_output, positions=None):
        if positions is not None:
            sequence_output = gather_positions(sequence_output, positions)  # [batch, predictions, hidden]
        hidden = self.layer_norm(gelu(self.transform(sequence_output)))
        word_table = tf.cast(self.embeddings.word_embeddings, hidden.dtype)  # [vocab, emb]
        logits = tokenwise_matmul(hidden, word_table, tf.cast(self.output_bias, hidden.dtype), transpose_kernel=True)
        return tf.cast(logits, tf.float32)

    def get_config(self):
        config = super().get_config()
        config.update(
            embeddings=keras.layers.serialize(self.embeddings),
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["embeddings"] = keras.layers.deserialize(config["embeddings"])
        return cls(**config)
