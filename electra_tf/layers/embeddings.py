"""Word + position + token-type embeddings, LayerNorm and dropout: the part the two networks share."""

import keras
import tensorflow as tf

from electra_tf.layers.dropout import SixteenBitDropout
from electra_tf.layers.initializers import truncated_normal
from electra_tf.layers.layer_norm import LastAxisLayerNorm


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraEmbeddings(keras.layers.Layer):
    """Sums word, position and token-type embeddings, then applies LayerNorm and dropout.

    ELECTRA's generator and discriminator hold the *same* instance of this layer, so both read and train
    the same variables (the sharing is by object, as keras-hub ties `token_embedding` into its MLM head).
    The word table also serves, transposed, as the generator's output projection (`MaskedLMHead`).

    Args:
        vocab_size: int. Rows of the word-embedding table.
        embedding_size: int. Width of every embedding.
        max_position_embeddings: int. Rows of the position table (longest sequence).
        type_vocab_size: int. Number of segment ids.
        dropout: float. Dropout rate after the LayerNorm.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Stddev of the truncated-normal initializer.

    Call arguments:
        input_word_ids: `[batch, seq]` int32 token ids.
        input_type_ids: `[batch, seq]` int32 segment ids.

    Returns: `[batch, seq, embedding_size]`.

    Example:
    >>> layer = ElectraEmbeddings(vocab_size=100, embedding_size=16, max_position_embeddings=32)
    >>> ids = tf.zeros((2, 8), tf.int32)
    >>> layer(ids, ids).shape
    TensorShape([2, 8, 16])
    """

    def __init__(
        self,
        vocab_size,
        embedding_size,
        max_position_embeddings,
        type_vocab_size=2,
        dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.dropout_rate = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        # === Layers ===
        self.layer_norm = LastAxisLayerNorm(
            epsilon=layer_norm_epsilon, dtype="float32", name="layer_norm"
        )
        self.dropout = SixteenBitDropout(dropout, name="dropout")

    def build(self, input_shape=None):
        initializer = truncated_normal(self.initializer_range)
        self.word_embeddings = self.add_weight(
            name="word_embeddings", shape=(self.vocab_size, self.embedding_size), initializer=initializer
        )
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.max_position_embeddings, self.embedding_size),
            initializer=initializer,
        )
        self.type_embeddings = self.add_weight(
            name="type_embeddings", shape=(self.type_vocab_size, self.embedding_size), initializer=initializer
        )
        self.layer_norm.build((None, None, self.embedding_size))
        self.built = True

    def call(self, input_word_ids, input_type_ids, training=None):
        seq_length = tf.shape(input_word_ids)[1]
        words = tf.gather(self.word_embeddings, input_word_ids)  # [batch, seq, emb]
        positions = self.position_embeddings[:seq_length][tf.newaxis]  # [1, seq, emb]
        # A one-hot matmul beats a gather for a 2-row table and gives a dense, cheap gradient.
        types = tf.matmul(tf.one_hot(input_type_ids, self.type_vocab_size, dtype=words.dtype), self.type_embeddings)
        embeddings = self.layer_norm(words + positions + types)
        return self.dropout(tf.cast(embeddings, self.compute_dtype), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            embedding_size=self.embedding_size,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=self.type_vocab_size,
            dropout=self.dropout_rate,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
        )
        return config
