"""The discriminator: the encoder ELECTRA keeps, with its replaced-token-detection head."""

import keras

from electra_tf.config import ElectraConfig
from electra_tf.layers.replaced_token_head import ReplacedTokenHead
from electra_tf.networks.encoder import build_discriminator_encoder, build_embeddings, dummy_inputs


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraDiscriminator(keras.Model):
    """Encoder of discriminator size + a per-token "was this replaced?" head.

    After pretraining this is the model to fine-tune and export; `sequence_output[:, 0]` (the [CLS]
    vector) is the sentence vector (ELECTRA has no pooler).

    Args:
        config: `ElectraConfig` (or its dict).
        embeddings: optional `ElectraEmbeddings` to share with a generator; new when omitted.

    Call arguments:
        inputs: dict of int32 `[batch, seq]` `input_word_ids`, `input_mask`, `input_type_ids`.

    Returns: dict with `sequence_output` `[batch, seq, hidden]` and float32 `rtd_logits` `[batch, seq]`.

    Example:
    >>> import tensorflow as tf
    >>> discriminator = ElectraDiscriminator(ElectraConfig.preset("tiny"))
    >>> ids = tf.ones((2, 8), tf.int32)
    >>> discriminator({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids * 0})["rtd_logits"].shape
    TensorShape([2, 8])
    """

    def __init__(self, config, embeddings=None, **kwargs):
        config = config if isinstance(config, ElectraConfig) else ElectraConfig.from_dict(config)
        kwargs.setdefault("name", "discriminator")
        super().__init__(**kwargs)
        self.config = config
        # === Layers ===
        self.embeddings = embeddings if embeddings is not None else build_embeddings(config)
        self.encoder = build_discriminator_encoder(config, self.embeddings, dtype=self.dtype_policy)
        self.replaced_token_head = ReplacedTokenHead(
            config.hidden_size,
            initializer_range=config.initializer_range,
            dtype=self.dtype_policy,
            name="replaced_token_head",
        )
        self(dummy_inputs(config))  # create every variable now, so weights can be loaded at once

    def call(self, inputs, training=None):
        sequence_output = self.encoder(inputs, training=training)
        return {"sequence_output": sequence_output, "rtd_logits": self.replaced_token_head(sequence_output)}

    def get_config(self):
        return {"name": self.name, "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
