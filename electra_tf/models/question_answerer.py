"""`ElectraQuestionAnswerer`: extractive QA — start/end logits over the context and, for SQuAD 2.0, answerability."""

from __future__ import annotations

import keras
import tensorflow as tf

from electra_tf.layers.activations import gelu
from electra_tf.models.task_model import ElectraTaskModel, weighted_mean

# Added to the logits of positions that cannot start or end an answer (question, [SEP], padding). The
# reference uses -1000; any value that makes their softmax weight 0 in float32 will do.
NOT_IN_CONTEXT = -10000.0


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraQuestionAnswerer(ElectraTaskModel):
    """Encoder -> Dense(2) per token (start, end) + an answerability classifier on `[CLS]`.

    Inputs are packed `[CLS] question [SEP] context window [SEP]` with type id 1 on the context; only
    context tokens (type 1, real) and `[CLS]` can start or end an answer, as in the reference's
    `answer_mask`. An unanswerable window (SQuAD 2.0, or a window without the answer) is labelled with
    start = end = 0, the `[CLS]` position.

    Head: the **plain start/end head** (one dense layer giving a start and an end logit per token), not the
    reference's XLNet-style joint head (`joint_prediction`: end logits conditioned on each of the top-20
    starts by a 512-unit GELU layer). The joint head needs a beam search over starts inside the model and
    gains about half a point of SQuAD 2.0 F1 in the paper's ablations; the plain head keeps `start_logits` and
    `end_logits` independent `[batch, seq]` tensors that decoding (n-best over both, maximum answer length)
    and the exported `answer` signature use directly. The answerability classifier is the reference's
    (`answerable_classifier` with `answerable_uses_start_logits`): the `[CLS]` vector concatenated with the
    start-probability-weighted token vector -> Dense(512, GELU) -> Dense(1); its sigmoid loss is added with
    weight 0.5 when `version_2_with_negative` (SQuAD 1.1 models leave it untrained).

    Loss (`task_loss`): (CE(start) + CE(end)) / 2 [+ 0.5 x sigmoid CE(answerable)], mean over the batch.
    `y` is a dict of int `start_positions`, `end_positions` `[batch]` and, for 2.0, `is_impossible` `[batch]`.

    Args:
        config: `ElectraConfig` (or its dict).
        version_2_with_negative: bool. Train the answerability classifier (SQuAD 2.0 style data).
        answerable_weight: float. Weight of the answerability loss (0.5 in the reference).
        answerable_hidden_size: int. Width of the answerability classifier's hidden layer (512).

    Call arguments:
        inputs: dict of int32 `[batch, seq]` `input_word_ids`, `input_mask`, `input_type_ids`.

    Returns: dict of float32 `start_logits` `[batch, seq]`, `end_logits` `[batch, seq]` (positions outside the
    context and `[CLS]` at -10000) and `answerable_logits` `[batch]` (> 0: answerable).

    Example:
    >>> from electra_tf.config import ElectraConfig
    >>> model = ElectraQuestionAnswerer(ElectraConfig.preset("tiny"), version_2_with_negative=True)
    >>> ids = tf.ones((2, 8), tf.int32)
    >>> outputs = model({"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids})
    >>> outputs["start_logits"].shape, outputs["answerable_logits"].shape
    (TensorShape([2, 8]), TensorShape([2]))

    References:
        google-research/electra `finetune/qa/qa_tasks.py` (`get_prediction_module`).
    """

    task = "qa"

    def __init__(self, config, version_2_with_negative=False, answerable_weight=0.5, answerable_hidden_size=512,
                 **kwargs):
        kwargs.setdefault("name", "question_answerer")
        super().__init__(config, **kwargs)
        self.version_2_with_negative = bool(version_2_with_negative)
        self.answerable_weight = float(answerable_weight)
        self.answerable_hidden_size = int(answerable_hidden_size)
        # === Head layers ===
        self.span_head = keras.layers.Dense(2, dtype=self.dtype_policy, name="span_head")
        self.answerable_hidden = keras.layers.Dense(
            self.answerable_hidden_size, dtype=self.dtype_policy, name="answerable_hidden"
        )  # GELU applied in call (exact erf form)
        self.answerable_head = keras.layers.Dense(1, dtype=self.dtype_policy, name="answerable_head")
        self._build_now()

    def call(self, inputs, training=None):
        hidden = self.sequence_output(inputs, training=training)  # [batch, seq, hidden]
        span_logits = tf.cast(self.span_head(hidden), tf.float32)  # [batch, seq, 2]
        answer_mask = answer_positions_mask(inputs["input_mask"], inputs["input_type_ids"])  # [batch, seq]
        penalty = NOT_IN_CONTEXT * (1.0 - answer_mask)  # [batch, seq]
        start_logits = span_logits[:, :, 0] + penalty
        end_logits = span_logits[:, :, 1] + penalty
        # Answerability from [CLS] and the expected start token's vector.
        start_probabilities = tf.nn.softmax(start_logits, axis=-1)  # [batch, seq]
        start_vector = tf.einsum("bl,blh->bh", tf.cast(start_probabilities, hidden.dtype), hidden)  # [batch, hidden]
        features = tf.concat([hidden[:, 0], start_vector], axis=-1)  # [batch, 2 x hidden]
        answerable_logits = self.answerable_head(gelu(self.answerable_hidden(features)))[:, 0]  # [batch]
        return {
            "start_logits": start_logits,
            "end_logits": end_logits,
            "answerable_logits": tf.cast(answerable_logits, tf.float32),
        }

    def task_loss(self, y, y_pred, sample_weight=None):
        """(CE(start) + CE(end)) / 2, plus `answerable_weight` x sigmoid CE for SQuAD 2.0 models."""
        start_logits = y_pred["start_logits"]  # [batch, seq]
        weights = tf.ones(tf.shape(start_logits)[:1]) if sample_weight is None else sample_weight
        start_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(y["start_positions"], tf.int32), logits=start_logits)
        end_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(y["end_positions"], tf.int32), logits=y_pred["end_logits"])
        losses = (start_loss + end_loss) / 2.0  # [batch]
        if self.version_2_with_negative:
            impossible = tf.cast(y["is_impossible"], tf.float32)  # 1 = no answer in this window
            # The logit says "answerable": its label is 1 - is_impossible.
            losses += self.answerable_weight * tf.nn.sigmoid_cross_entropy_with_logits(
                labels=1.0 - impossible, logits=y_pred["answerable_logits"])
        return weighted_mean(losses, weights)

    def get_config(self):
        config = super().get_config()
        config.update(
            version_2_with_negative=self.version_2_with_negative,
            answerable_weight=self.answerable_weight,
            answerable_hidden_size=self.answerable_hidden_size,
        )
        return config


def answer_positions_mask(input_mask, input_type_ids):
    """float32 `[batch, seq]`: 1 where an answer may start or end — real context tokens (type 1) and `[CLS]`.

    The final `[SEP]` is a real type-1 token; it is never labelled, and decoding skips positions outside the
    window's context map.
    """
    mask = tf.cast(input_mask, tf.float32) * tf.cast(input_type_ids, tf.float32)  # [batch, seq]
    cls_position = tf.one_hot(0, tf.shape(mask)[1], dtype=tf.float32)  # [seq]
    return tf.minimum(mask + cls_position[tf.newaxis], 1.0)
