"""`ElectraTokenTagger`: one tag per word, predicted at the word's first word piece."""

from __future__ import annotations

import keras
import tensorflow as tf

from electra_tf.models.task_model import ElectraTaskModel, weighted_mean

IGNORED_LABEL = -1  # label id of positions without a tag: [CLS], [SEP], padding, non-first word pieces


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraTokenTagger(ElectraTaskModel):
    """Encoder -> Dense(num_tags) at every position; loss only at the first word piece of each word.

    The reference (`finetune/tagging/tagging_tasks.py`) gathers the first piece of each word and puts one dense
    layer on it. This model computes the logits at every position (the same dense layer, so the same numbers
    at the labelled positions) and lets the features say which positions count: `y` holds the tag id at a
    word's first piece and `IGNORED_LABEL` (-1) elsewhere. Keeping the sequence axis makes the exported `tag`
    signature a per-position lookup and works with windows over long sentences.

    Loss (`task_loss`): cross-entropy summed over labelled positions / number of labelled positions.

    Args:
        config: `ElectraConfig` (or its dict).
        num_tags: int. Size of the tag set.

    Call arguments:
        inputs: dict of int32 `[batch, seq]` `input_word_ids`, `input_mask`, `input_type_ids`.

    Returns: dict with float32 `logits` `[batch, seq, num_tags]`.

    Example:
    >>> from electra_tf.config import ElectraConfig
    >>> model = ElectraTokenTagger(ElectraConfig.preset("tiny"), num_tags=5)
    >>> ids = tf.ones((2, 8), tf.int32)
    >>> model({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids * 0})["logits"].shape
    TensorShape([2, 8, 5])

    References:
        google-research/electra `finetune/tagging/tagging_tasks.py`.
    """

    task = "tagging"

    def __init__(self, config, num_tags, **kwargs):
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise ValueError(f"Expected num_tags to be a positive integer. Received: num_tags={num_tags!r}")
        kwargs.setdefault("name", "token_tagger")
        super().__init__(config, **kwargs)
        self.num_tags = num_tags
        # === Head layers ===
        self.tagger = keras.layers.Dense(num_tags, dtype=self.dtype_policy, name="tagger")
        # === Metrics ===
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")  # over labelled positions
        self._build_now()

    def call(self, inputs, training=None):
        hidden = self.sequence_output(inputs, training=training)  # [batch, seq, hidden]
        return {"logits": tf.cast(self.tagger(hidden), tf.float32)}  # [batch, seq, num_tags]

    def task_loss(self, y, y_pred, sample_weight=None):
        """Mean cross-entropy over the positions whose label is not `IGNORED_LABEL`."""
        labels = tf.cast(y, tf.int32)  # [batch, seq]
        labelled = tf.cast(labels >= 0, tf.float32)  # [batch, seq]
        if sample_weight is not None:
            labelled *= tf.cast(tf.reshape(sample_weight, [-1, 1]), tf.float32)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.maximum(labels, 0), logits=y_pred["logits"])  # [batch, seq]
        return weighted_mean(losses, labelled)

    def update_task_metrics(self, y, y_pred, sample_weight=None):
        labels = tf.cast(y, tf.int32)
        predicted = tf.argmax(y_pred["logits"], axis=-1, output_type=tf.int32)
        self.accuracy_tracker.update_state(
            tf.cast(tf.equal(predicted, labels), tf.float32), sample_weight=tf.cast(labels >= 0, tf.float32))

    def get_config(self):
        config = super().get_config()
        config.update(num_tags=self.num_tags)
        return config
