"""Held-out pretraining metrics with fixed masks: MLM loss/accuracy, RTD loss/accuracy/precision/recall, ROC-AUC.

`PretrainingEvaluator` runs the pretrainer's forward pass (`ElectraPretrainer.pretraining_outputs`, no
dropout) on batches of held-out examples. Batch `b` is always masked and sampled with the seed
`[EVAL_STREAM, seed x 1000003 + b]`, so two evaluations of the same model on the same batches give the same
numbers, and evaluations of one run at different steps differ only by what the model learned.

Definitions (sums over every batch, then divided; not means of batch means):

- `mlm_loss`: cross-entropy of the generator at the masked positions, mean over masked positions;
  `mlm_accuracy`: share of masked positions whose arg-max prediction is the original token. The chosen
  positions that keep their original token (15% with ELECTRA's `mask_token_rate` 0.85) are simply copied by
  the generator, so this overstates what the generator learned.
- `mlm_accuracy_at_mask`: the same, only at the chosen positions whose input became [MASK]
  (`mask_token_positions` of them); the number to compare with the unigram baseline.
- `unigram_accuracy_at_mask`: the accuracy at those positions of always predicting one token: the most
  frequent non-special token (not [PAD]/[CLS]/[SEP]/[MASK]; lowest id on ties) of the evaluated batches'
  inputs, masked or not. Token frequencies of the training data are not stored with prepared data, so the
  evaluated batches stand in for them (held-out text of the same corpus). A generator that learned only
  word frequencies scores about this.
- `rtd_loss`: sigmoid cross-entropy of the discriminator over every non-pad token, mean over those tokens;
  `rtd_accuracy`, `rtd_precision`, `rtd_recall`: with "replaced" predicted where the logit > 0 (p > 0.5);
  `rtd_auc`: exact ROC-AUC of the discriminator's logits against the replaced labels over all non-pad tokens
  (the reference implementation's `disc_auc`), ties counted as half (`roc_auc`);
  `replaced_fraction`: share of non-pad tokens that the generator's samples changed.
- `loss`: `mlm_loss + rtd_loss_weight x rtd_loss` (the training objective); for the MLM baseline
  (`objective="mlm"`) only the MLM metrics.

Example:
>>> evaluator = PretrainingEvaluator(pretrainer, seed=0)  # doctest: +SKIP
>>> metrics = evaluator.evaluate(validation_dataset("data/", batch_size=32), max_batches=20)  # doctest: +SKIP
>>> round(metrics["rtd_auc"], 3), round(metrics["mlm_accuracy"], 3)  # doctest: +SKIP
(0.812, 0.334)
>>> round(metrics["mlm_accuracy_at_mask"], 3), round(metrics["unigram_accuracy_at_mask"], 3)  # doctest: +SKIP
(0.221, 0.057)
"""

from __future__ import annotations

import math

import numpy as np

EVAL_STREAM = 0x4556414C  # first seed word of evaluation masks: apart from the training streams
SEED_STRIDE = 1_000_003


def roc_auc(scores, labels) -> float:
    """Exact area under the ROC curve; tied scores count half (Mann-Whitney U with average ranks).

    Equal to `sklearn.metrics.roc_auc_score(labels, scores)`, without its dependency.

    Args:
        scores: array-like of float [n]. Higher means "more likely positive" (logits or probabilities).
        labels: array-like of {0, 1} or bool [n].

    Returns:
        float. The AUC in [0, 1]; NaN when `labels` has no positive or no negative.

    Raises:
        ValueError: different lengths, or labels other than 0/1.

    Example:
    >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> roc_auc([0.5, 0.5], [0, 1])  # a tie is half right
    0.5
    """
    scores = np.asarray(scores, np.float64).reshape(-1)  # [n]
    labels = np.asarray(labels).reshape(-1)  # [n]
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels differ in length: {scores.shape[0]} scores, {labels.shape[0]} labels.")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError(f"labels must be 0/1, received values {np.unique(labels)[:5].tolist()}.")
    positive = labels.astype(bool)  # [n]
    num_positive = int(positive.sum())
    num_negative = positive.size - num_positive
    if num_positive == 0 or num_negative == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # 1-based average rank of each distinct score: the mean of the ranks its ties occupy.
    average_ranks = np.cumsum(counts) - (counts - 1) / 2.0  # [distinct]
    rank_sum = float(average_ranks[inverse.reshape(-1)][positive].sum())
    u_statistic = rank_sum - num_positive * (num_positive + 1) / 2.0
    return u_statistic / (num_positive * num_negative)


class PretrainingEvaluator:
    """Evaluates an `ElectraPretrainer` on held-out batches with fixed masks (see the module docstring).

    Args:
        pretrainer: ElectraPretrainer (ELECTRA or the MLM baseline).
        seed: int. Seed of the evaluation masks and samples; keep it fixed to compare evaluations.

    Example:
    >>> evaluator = PretrainingEvaluator(pretrainer, seed=0)  # doctest: +SKIP
    >>> evaluator.evaluate(batches, max_batches=10)["rtd_auc"]  # doctest: +SKIP
    0.7421
    """

    def __init__(self, pretrainer, seed: int = 0):
        import tensorflow as tf

        self.pretrainer = pretrainer
        self.seed = int(seed)
        self._step = tf.function(self._step_fn, reduce_retracing=True)

    def _step_fn(self, inputs, batch_index, seed):
        """Sums of one batch, the RTD logits/labels of its non-pad tokens (`[tokens]` each), and two token
        histograms `[vocab]`: of the non-special input tokens, and of the originals at [MASK] positions."""
        import tensorflow as tf

        config = self.pretrainer.config

        seed = tf.stack([tf.constant(EVAL_STREAM, tf.int64),
                         tf.cast(seed, tf.int64) * SEED_STRIDE + tf.cast(batch_index, tf.int64)])
        outputs = self.pretrainer.pretraining_outputs(inputs, seed=seed, training=False)
        weights = tf.cast(outputs["mask_weights"], tf.float32)  # [B, P]
        predicted = tf.argmax(outputs["mlm_logits"], axis=-1, output_type=tf.int32)  # [B, P]
        mlm_count = tf.reduce_sum(weights)
        original_ids = tf.cast(outputs["original_ids"], tf.int32)  # [B, P]
        correct = tf.cast(tf.equal(predicted, original_ids), tf.float32)  # [B, P]
        # Chosen positions whose generator input is [MASK] (random tokens and kept originals are never [MASK]).
        input_at_positions = tf.gather(tf.cast(outputs["masked_word_ids"], tf.int32),
                                       tf.cast(outputs["mask_positions"], tf.int32), batch_dims=1)  # [B, P]
        at_mask = tf.cast(tf.equal(input_at_positions, config.mask_id), tf.float32) * weights  # [B, P]
        sums = {
            "mlm_loss": tf.cast(outputs["mlm_loss"], tf.float32) * mlm_count,
            "mlm_correct": tf.reduce_sum(correct * weights),
            "mlm_count": mlm_count,
            "mask_correct": tf.reduce_sum(correct * at_mask),
            "mask_count": tf.reduce_sum(at_mask),
        }
        input_ids = tf.cast(inputs["input_word_ids"], tf.int32)  # [B, L]
        is_word = tf.cast(inputs["input_mask"], tf.bool)  # [B, L]
        for special_id in config.special_ids:
            is_word &= tf.not_equal(input_ids, special_id)
        histograms = (
            tf.math.bincount(tf.boolean_mask(input_ids, is_word), minlength=config.vocab_size,
                             maxlength=config.vocab_size, dtype=tf.float32),  # [vocab]
            tf.math.bincount(tf.boolean_mask(original_ids, at_mask > 0), minlength=config.vocab_size,
                             maxlength=config.vocab_size, dtype=tf.float32),  # [vocab]
        )
        if "rtd_logits" not in outputs:
            return sums, tf.zeros([0], tf.float32), tf.zeros([0], tf.int32), histograms
        real = tf.cast(inputs["input_mask"], tf.bool)  # [B, L]
        logits = tf.cast(outputs["rtd_logits"], tf.float32)  # [B, L]
        labels = tf.cast(outputs["rtd_labels"], tf.int32)  # [B, L]
        sums["rtd_loss"] = tf.cast(outputs["rtd_loss"], tf.float32) * tf.reduce_sum(tf.cast(real, tf.float32))
        return sums, tf.boolean_mask(logits, real), tf.boolean_mask(labels, real), histograms

    def evaluate(self, batches, max_batches: int | None = None, seed: int | None = None) -> dict:
        """Evaluates on an iterable of input dicts (e.g. a `tf.data.Dataset`).

        Args:
            batches: iterable of dicts `input_word_ids`, `input_mask`, `input_type_ids` (int [B, L]).
            max_batches: int or None. Stop after this many batches (None: all).
            seed: int or None. Another seed for this call (None: the evaluator's).

        Returns:
            dict of float: the metrics of the module docstring, plus `examples`, `tokens` (non-pad) and
            `masked_tokens` and `mask_token_positions`.

        Raises:
            ValueError: no batches.
        """
        import tensorflow as tf

        seed = tf.constant(self.seed if seed is None else int(seed), tf.int64)
        totals: dict = {}
        all_logits, all_labels = [], []
        token_counts = target_counts = 0.0  # [vocab] each once a batch is in
        examples = 0
        for index, inputs in enumerate(batches):
            if max_batches is not None and index >= max_batches:
                break
            sums, logits, labels, (tokens, targets) = self._step(inputs, tf.constant(index, tf.int64), seed)
            token_counts = token_counts + tokens.numpy()
            target_counts = target_counts + targets.numpy()
            for name, value in sums.items():
                totals[name] = totals.get(name, 0.0) + float(value)
            all_logits.append(logits.numpy())
            all_labels.append(labels.numpy())
            examples += int(inputs["input_mask"].shape[0])
        if not examples:
            raise ValueError("No held-out batches to evaluate: the dataset is empty.")
        # Always predicting the most frequent evaluated token: right wherever that token is the [MASK] target.
        totals["unigram_correct"] = float(target_counts[int(np.argmax(token_counts))]) if token_counts.any() else 0.0
        return metrics_from_totals(
            totals, np.concatenate(all_logits), np.concatenate(all_labels), examples,
            self.pretrainer.config.rtd_loss_weight,
        )


def metrics_from_totals(totals: dict, rtd_logits: np.ndarray, rtd_labels: np.ndarray, examples: int,
                        rtd_loss_weight: float) -> dict:
    """The metrics of the module docstring from summed losses/counts and the RTD logits/labels of all tokens.

    Args:
        totals: dict with `mlm_loss` (summed over masked positions), `mlm_correct`, `mlm_count`, and for
            ELECTRA `rtd_loss` (summed over non-pad tokens); optionally `mask_correct`, `mask_count` and
            `unigram_correct` (at the [MASK] positions) for the `..._at_mask` metrics.
        rtd_logits: np.ndarray float [tokens]. Discriminator logits of every non-pad token (empty for MLM).
        rtd_labels: np.ndarray int [tokens]. 1 where the token was replaced.
        examples: int. Examples evaluated.
        rtd_loss_weight: float. Weight of the RTD loss in `loss`.

    Returns:
        dict of float.
    """
    mlm_count = totals["mlm_count"]
    metrics = {
        "mlm_loss": totals["mlm_loss"] / mlm_count if mlm_count else math.nan,
        "mlm_accuracy": totals["mlm_correct"] / mlm_count if mlm_count else math.nan,
    }
    result = {"examples": float(examples), "masked_tokens": float(mlm_count)}
    if "mask_count" in totals:
        mask_count = totals["mask_count"]
        metrics["mlm_accuracy_at_mask"] = totals["mask_correct"] / mask_count if mask_count else math.nan
        metrics["unigram_accuracy_at_mask"] = (
            totals.get("unigram_correct", math.nan) / mask_count if mask_count else math.nan)
        result["mask_token_positions"] = float(mask_count)
    metrics["loss"] = metrics["mlm_loss"]
    if "rtd_loss" in totals:
        tokens = rtd_logits.size
        labels = rtd_labels.astype(bool)  # [tokens]
        predicted = rtd_logits > 0  # [tokens]
        true_positive = float(np.sum(predicted & labels))
        metrics["rtd_loss"] = totals["rtd_loss"] / tokens if tokens else math.nan
        metrics["loss"] = metrics["mlm_loss"] + rtd_loss_weight * metrics["rtd_loss"]
        metrics["rtd_accuracy"] = float(np.mean(predicted == labels)) if tokens else math.nan
        metrics["rtd_precision"] = true_positive / float(predicted.sum()) if predicted.any() else 0.0
        metrics["rtd_recall"] = true_positive / float(labels.sum()) if labels.any() else 0.0
        metrics["rtd_auc"] = roc_auc(rtd_logits, labels)
        metrics["replaced_fraction"] = float(labels.mean()) if tokens else math.nan
        result["tokens"] = float(tokens)
    return {name: float(value) for name, value in {**metrics, **result}.items()}


def evaluate_pretraining(pretrainer, batches, *, seed: int = 0, max_batches: int | None = None) -> dict:
    """One-call form of `PretrainingEvaluator(pretrainer, seed).evaluate(batches, max_batches)`.

    Example:
    >>> evaluate_pretraining(pretrainer, validation_dataset("data/", 32), max_batches=20)["rtd_auc"]  # doctest: +SKIP
    0.8123
    """
    return PretrainingEvaluator(pretrainer, seed=seed).evaluate(batches, max_batches=max_batches)
