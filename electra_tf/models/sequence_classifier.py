"""`ElectraSequenceClassifier`: classification or regression of one text or a pair from the `[CLS]` vector."""

from __future__ import annotations

import keras
import tensorflow as tf

from electra_tf.layers.dropout import SixteenBitDropout
from electra_tf.models.task_model import ElectraTaskModel, weighted_mean

TASKS = ("classification", "regression")


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraSequenceClassifier(ElectraTaskModel):
    """Encoder -> `[CLS]` vector -> dropout 0.1 -> Dense(num_labels), the reference's head.

    google-research/electra `finetune/classification/classification_tasks.py` puts a single dense layer on
    the `[CLS]` vector (`get_pooled_output()` is `sequence_output[:, 0]`: ELECTRA has no pooler) after
    dropout with keep probability 0.9 in training; regression (STS-B) is the same head with one output and a
    squared-error loss. Hugging Face's `ElectraForSequenceClassification` adds a Dense(hidden, GELU) layer
    that the reference does not have; we follow the reference. Its dense layer uses `tf.layers.dense`'s
    default Glorot-uniform initialiser, and so does ours.

    Loss (`task_loss`, used by `fit` when `compile` gets no `loss`): mean cross-entropy of the integer
    labels for `task="classification"`, mean squared error of the float targets for `task="regression"`.

    Args:
        config: `ElectraConfig` (or its dict). The discriminator's architecture.
        num_labels: int. Classes (1 for regression).
        task: str. `"classification"` or `"regression"`.
        classifier_dropout: float. Dropout on the `[CLS]` vector (0.1).

    Call arguments:
        inputs: dict of int32 `[batch, seq]` `input_word_ids`, `input_mask`, `input_type_ids`.

    Returns: dict with float32 `logits` `[batch, num_labels]` (regression: `[batch, 1]`, the prediction).

    Example:
    >>> from electra_tf.config import ElectraConfig
    >>> model = ElectraSequenceClassifier(ElectraConfig.preset("tiny"), num_labels=3)
    >>> ids = tf.ones((2, 8), tf.int32)
    >>> model({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids * 0})["logits"].shape
    TensorShape([2, 3])

    References:
        Clark et al., 2020, Appendix A; google-research/electra `finetune/classification`.
    """

    def __init__(self, config, num_labels, task="classification", classifier_dropout=0.1, **kwargs):
        if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1:
            raise ValueError(f"Expected num_labels to be a positive integer. Received: num_labels={num_labels!r}")
        if task not in TASKS:
            raise ValueError(f"Expected task in {TASKS}. Received: task={task!r}")
        if task == "regression" and num_labels != 1:
            raise ValueError(f"A regression model has one output. Received: num_labels={num_labels}")
        if task == "classification" and num_labels < 2:
            raise ValueError(f"Classification needs at least 2 labels. Received: num_labels={num_labels}")
        kwargs.setdefault("name", "sequence_classifier")
        super().__init__(config, **kwargs)
        self.num_labels = num_labels
        self.task = task
        self.classifier_dropout = classifier_dropout
        # === Head layers ===
        self.dropout = SixteenBitDropout(classifier_dropout, dtype=self.dtype_policy, name="classifier_dropout")
        self.classifier = keras.layers.Dense(num_labels, dtype=self.dtype_policy, name="classifier")
        # === Metrics ===
        if task == "classification":
            self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self._build_now()

    def call(self, inputs, training=None):
        cls_vector = self.sequence_output(inputs, training=training)[:, 0]  # [batch, hidden]
        logits = self.classifier(self.dropout(cls_vector, training=training))  # [batch, num_labels]
        return {"logits": tf.cast(logits, tf.float32)}

    def task_loss(self, y, y_pred, sample_weight=None):
        """Mean cross-entropy (classification, `y` int `[batch]`) or squared error (regression, `y` float)."""
        logits = y_pred["logits"]  # [batch, num_labels]
        weights = tf.ones(tf.shape(logits)[:1]) if sample_weight is None else sample_weight
        if self.task == "regression":
            errors = tf.square(logits[:, 0] - tf.cast(tf.reshape(y, [-1]), tf.float32))
            return weighted_mean(errors, weights)
        labels = tf.cast(tf.reshape(y, [-1]), tf.int32)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return weighted_mean(losses, weights)

    def update_task_metrics(self, y, y_pred, sample_weight=None):
        if self.task == "classification":
            self.accuracy_tracker.update_state(tf.reshape(y, [-1]), y_pred["logits"], sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(num_labels=self.num_labels, task=self.task, classifier_dropout=self.classifier_dropout)
        return config
