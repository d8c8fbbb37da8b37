"""The generator: a small masked LM whose samples corrupt the discriminator's input."""

import keras

from electra_tf.config import ElectraConfig
from electra_tf.layers.masked_lm_head import MaskedLMHead
from electra_tf.networks.encoder import ElectraEncoder, build_embeddings, dummy_inputs


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraGenerator(keras.Model):
    """Encoder of generator size (or discriminator size for the BERT baseline) + tied masked-LM head.

    Args:
        config: `ElectraConfig` (or its dict).
        embeddings: optional `ElectraEmbeddings` to share; a new one is made when omitted.
        discriminator_sized: bool. Use the discriminator's sizes (the MLM-only BERT baseline).

    Call arguments:
        inputs: dict of int32 `[batch, seq]` `input_word_ids`, `input_mask`, `input_type_ids`.
        mask_positions: optional `[batch, P]` int32: logits only there (training never builds
            `[batch, seq, vocab]`).

    Returns: dict with `sequence_output` `[batch, seq, hidden]` and float32 `mlm_logits`
        `[batch, seq, vocab]` (or `[batch, P, vocab]` with `mask_positions`).

    Example:
    >>> import tensorflow as tf
    >>> generator = ElectraGenerator(ElectraConfig.preset("tiny", vocab_size=200, cls_id=2, sep_id=3, mask_id=4, unk_id=1))
    >>> ids = tf.ones((2, 8), tf.int32)
    >>> generator({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids * 0})["mlm_logits"].shape
    TensorShape([2, 8, 200])
    """

    def __init__(self, config, embeddings=None, discriminator_sized=False, **kwargs):
        config = config if isinstance(config, ElectraConfig) else ElectraConfig.from_dict(config)
        kwargs.setdefault("name", "generator")
        super().__init__(**kwargs)
        self.config = config
        self.discriminator_sized = discriminator_sized
        # === Layers ===
        self.embeddings = embeddings if embeddings is not None else build_embeddings(config)
        if discriminator_sized:
            sizes = (config.hidden_size, config.num_heads, config.intermediate_size)
        else:
            sizes = (config.generator_hidden_size, config.generator_num_heads, config.generator_intermediate_size)
        hidden_size, num_heads, intermediate_size = sizes
        self.encoder = ElectraEncoder(
            self.embeddings,
            hidden_size=hidden_size,
            num_layers=config.num_layers,
            num_heads=num_heads,
            intermediate_size=intermediate_size,
            dropout=config.hidden_dropout,
            attention_dropout=config.attention_dropout,
            layer_norm_epsilon=config.layer_norm_epsilon,
            initializer_range=config.initializer_range,
            dtype=self.dtype_policy,
            name="encoder",
        )
        self.masked_lm_head = MaskedLMHead(
            self.embeddings,
            layer_norm_epsilon=config.layer_norm_epsilon,
            initializer_range=config.initializer_range,
            dtype=self.dtype_policy,
            name="masked_lm_head",
        )
        self(dummy_inputs(config))  # create every variable now, so weights can be loaded at once

    def call(self, inputs, mask_positions=None, training=None):
        sequence_output = self.encoder(inputs, training=training)
        logits = self.masked_lm_head(sequence_output, positions=mask_positions)
        return {"sequence_output": sequence_output, "mlm_logits": logits}

    def get_config(self):
        return {"name": self.name, "config": self.config.to_dict(), "discriminator_sized": self.discriminator_sized}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
