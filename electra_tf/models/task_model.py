"""`ElectraTaskModel`: the shared base of the fine-tuning models — the discriminator's encoder plus a head.

A task model owns its embeddings and one `ElectraEncoder` of the discriminator's size (`config`), so a
pretrained discriminator's encoder weights load into it one for one (`load_encoder_weights`). Subclasses add a
head (`ElectraSequenceClassifier`, `ElectraQuestionAnswerer`, `ElectraTokenTagger`) and the task's loss.

`encoder_network` has the `encoder` attribute of an `ElectraDiscriminator` (this model's encoder), so the
exported `encode` signature works on every task model as on a pretrainer.

Losses: each subclass implements `task_loss(y, y_pred, sample_weight)`; `model.compile(optimizer)` without
a `loss` makes `fit`/`evaluate` use it (computed in float32 under any precision policy). A `loss` given to
`compile` replaces it, as in any Keras model.

Example:
>>> from electra_tf.models.sequence_classifier import ElectraSequenceClassifier
>>> model = ElectraSequenceClassifier(ElectraConfig.preset("tiny"), num_labels=2)
>>> model.encoder_network.encoder is model.encoder
True
"""

from __future__ import annotations

import types

import keras
import tensorflow as tf
from keras.src.losses.loss import scale_loss_for_distribution

from electra_tf.config import ElectraConfig
from electra_tf.networks.encoder import build_discriminator_encoder, build_embeddings, dummy_inputs


class ElectraTaskModel(keras.Model):
    """Embeddings + discriminator-sized encoder; subclasses add `head` layers and `task_loss`.

    Args:
        config: `ElectraConfig` (or its dict). The discriminator's architecture.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).
    """

    task = ""  # "classification", "regression", "qa" or "tagging"; set by subclasses

    def __init__(self, config, **kwargs):
        config = config if isinstance(config, ElectraConfig) else ElectraConfig.from_dict(config)
        super().__init__(**kwargs)
        self.config = config
        # === Encoder layers ===
        self.embeddings = build_embeddings(config)
        self.encoder = build_discriminator_encoder(config, self.embeddings, dtype=self.dtype_policy)

    def _build_now(self):
        """Creates every variable (call at the end of a subclass constructor) so weights load at once."""
        self(dummy_inputs(self.config))

    @property
    def encoder_network(self):
        """What the `encode` signature runs: an object whose `encoder` is this model's `ElectraEncoder`.

        Not the model itself: Keras's saving walks attributes and would recurse into a self-reference.
        """
        return types.SimpleNamespace(encoder=self.encoder, config=self.config)

    def sequence_output(self, inputs, training=None):
        """`[batch, seq, hidden]` encoder output (in the compute dtype)."""
        return self.encoder(inputs, training=training)

    def load_encoder_weights(self, source_encoder) -> None:
        """Copies the weights of another `ElectraEncoder` (a pretrained discriminator's) into this encoder.

        Raises:
            ValueError: the two encoders differ in structure or in a variable's shape (names the variable).
        """
        target, source = self.encoder.weights, source_encoder.weights
        if len(target) != len(source):
            raise ValueError(
                f"Cannot load encoder weights: expected {len(target)} variables, received {len(source)}."
            )
        for target_variable, source_variable in zip(target, source):
            if tuple(target_variable.shape) != tuple(source_variable.shape):
                raise ValueError(
                    f"Cannot load encoder weights: {target_variable.path} has shape {tuple(target_variable.shape)}, "
                    f"the source's {source_variable.path} has {tuple(source_variable.shape)}."
                )
        for target_variable, source_variable in zip(target, source):
            target_variable.assign(source_variable.value)

    # --- Loss (each subclass defines `task_loss(y, y_pred, sample_weight)`: the batch's scalar float32 loss) ---

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self._compile_loss is not None:  # a loss given to compile() wins
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        # Keras's losses divide a replica's mean by the replica count (the gradients are summed over
        # replicas); the task loss is a replica's mean, so it takes the same scaling.
        loss = scale_loss_for_distribution(self.task_loss(y, y_pred, sample_weight))
        if self.losses:  # regularisation losses added by layers, if any
            loss = loss + tf.add_n([tf.cast(extra, tf.float32) for extra in self.losses])
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self._compile_metrics is not None:  # metrics given to compile() win
            return super().compute_metrics(x, y, y_pred, sample_weight)
        self.update_task_metrics(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def update_task_metrics(self, y, y_pred, sample_weight=None):
        """Updates the running metrics shown during `fit` besides the loss (none by default)."""

    # --- Serialization ---

    def get_config(self):
        return {"name": self.name, "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def weighted_mean(values, weights):
    """Mean of `values` weighted by `weights` (same shape), 0 when the weights sum to 0; float32."""
    values = tf.cast(values, tf.float32)
    weights = tf.cast(weights, tf.float32)
    return tf.math.divide_no_nan(tf.reduce_sum(values * weights), tf.reduce_sum(weights))
