"""The transformer encoder both ELECTRA networks are made of."""

import keras
import tensorflow as tf

from electra_tf.layers.embeddings import ElectraEmbeddings
from electra_tf.layers.initializers import truncated_normal
from electra_tf.layers.self_attention import attention_bias_from_mask
from electra_tf.layers.tokenwise_dense import TokenwiseDense
from electra_tf.layers.transformer_block import TransformerBlock

INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")


def check_inputs(inputs):
    """Raises a clear error unless `inputs` is a dict with the three TF Hub BERT keys."""
    if not isinstance(inputs, dict):
        raise ValueError(
            f"Expected inputs to be a dict with keys {list(INPUT_NAMES)}. Received: {type(inputs).__name__}"
        )
    missing = [name for name in INPUT_NAMES if name not in inputs]
    if missing:
        raise ValueError(f"Inputs are missing key(s) {missing}; expected {list(INPUT_NAMES)}. Received: {sorted(inputs)}")


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraEncoder(keras.layers.Layer):
    """Shared embeddings -> own projection (when widths differ) -> post-LN transformer blocks.

    The embedding layer is passed in, so the generator's and the discriminator's encoders read the same
    word, position and type tables and the same embedding LayerNorm; each encoder has its own projection.

    Args:
        embeddings: `ElectraEmbeddings`. The (shared) embedding layer.
        hidden_size: int. Width of the transformer.
        num_layers: int. Number of blocks.
        num_heads: int. Attention heads.
        intermediate_size: int. Feed-forward width.
        dropout: float. Hidden dropout.
        attention_dropout: float. Attention-probability dropout.
        layer_norm_epsilon: float. LayerNorm epsilon.
        initializer_range: float. Initializer stddev.

    Call arguments:
        inputs: dict of int32 `[batch, seq]` tensors `input_word_ids`, `input_mask`, `input_type_ids`.

    Returns: `[batch, seq, hidden_size]` sequence output.

    Example:
    >>> embeddings = ElectraEmbeddings(vocab_size=100, embedding_size=32, max_position_embeddings=16)
    >>> encoder = ElectraEncoder(embeddings, hidden_size=64, num_layers=1, num_heads=1, intermediate_size=128)
    >>> ids = tf.ones((2, 8), tf.int32)
    >>> encoder({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids * 0}).shape
    TensorShape([2, 8, 64])
    """

    def __init__(
        self,
        embeddings,
        hidden_size,
        num_layers,
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
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        # === Layers ===
        self.embeddings = embeddings
        self.embedding_projection = None
        if embeddings.embedding_size != hidden_size:
            self.embedding_projection = TokenwiseDense(
                hidden_size,
                kernel_initializer=truncated_normal(initializer_range),
                dtype=self.dtype_policy,
                name="embedding_projection",
            )
        self.blocks = [
            TransformerBlock(
                hidden_size,
                num_heads,
                intermediate_size,
                dropout=dropout,
                attention_dropout=attention_dropout,
                layer_norm_epsilon=layer_norm_epsilon,
                initializer_range=initializer_range,
                dtype=self.dtype_policy,
                name=f"block_{index}",
            )
            for index in range(num_layers)
        ]

    def build(self, input_shape=None):
        if not self.embeddings.built:
            self.embeddings.build()
        if self.embedding_projection is not None:
            self.embedding_projection.build((None, None, self.embeddings.embedding_size))
        for block in self.blocks:
            block.build((None, None, self.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        check_inputs(inputs)
        hidden = self.embeddings(inputs["input_word_ids"], inputs["input_type_ids"], training=training)
        if self.embedding_projection is not None:
            hidden = self.embedding_projection(hidden)  # [batch, seq, hidden]
        attention_bias = attention_bias_from_mask(inputs["input_mask"], hidden.dtype)  # [batch, 1, 1, seq]
        for block in self.blocks:
            hidden = block(hidden, attention_bias, training=training)
        return hidden

    def get_config(self):
        config = super().get_config()
        config.update(
            embeddings=keras.layers.serialize(self.embeddings),
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            dropout=self.dropout,
            attention_dropout=self.attention_dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["embeddings"] = keras.layers.deserialize(config["embeddings"])
        return cls(**config)


def build_embeddings(config, name="embeddings"):
    """The shared embedding layer for an `ElectraConfig`."""
    return ElectraEmbeddings(
        vocab_size=config.vocab_size,
        embedding_size=config.embedding_size,
        max_position_embeddings=config.max_position_embeddings,
        type_vocab_size=config.type_vocab_size,
        dropout=config.hidden_dropout,
        layer_norm_epsilon=config.layer_norm_epsilon,
        initializer_range=config.initializer_range,
        name=name,
    )


def build_discriminator_encoder(config, embeddings, dtype=None, name="encoder"):
    """The discriminator-sized `ElectraEncoder` over `embeddings`: what the discriminator and every fine-tuned
    task model run (the same variable names, so pretrained weights carry over)."""
    return ElectraEncoder(
        embeddings,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        intermediate_size=config.intermediate_size,
        dropout=config.hidden_dropout,
        attention_dropout=config.attention_dropout,
        layer_norm_epsilon=config.layer_norm_epsilon,
        initializer_range=config.initializer_range,
        dtype=dtype,
        name=name,
    )


def dummy_inputs(config, batch_size=1, seq_length=2):
    """A small all-real batch used to create every variable at construction time."""
    ids = tf.fill((batch_size, seq_length), tf.constant(config.cls_id, tf.int32))
    ones = tf.ones((batch_size, seq_length), tf.int32)
    return {"input_word_ids": ids, "input_mask": ones, "input_type_ids": ones * 0}
