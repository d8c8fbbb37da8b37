"""GLUE's classification and regression metrics: accuracy, F1, Matthews correlation, Pearson and Spearman.

Definitions as GLUE reports them (scikit-learn's `accuracy_score`, `f1_score` of the positive class 1,
`matthews_corrcoef` in its multi-class form; scipy's `pearsonr`, and `spearmanr` with average ranks for ties).
Values are fractions in [0, 1] (correlations in [-1, 1]); a correlation or MCC that is undefined (a constant
input) is 0.0 for MCC, as scikit-learn returns, and NaN for Pearson/Spearman, as scipy returns.

Example:
>>> classification_metrics("mcc", [1, 0, 1, 1], [1, 0, 0, 1])
{'mcc': 0.5773502691896258, 'accuracy': 0.75}
"""

from __future__ import annotations

import math

import numpy as np

from electra_tf.errors import InputError

METRICS = ("accuracy", "f1", "mcc", "pearson_spearman")


def _pair(predictions, labels, dtype) -> tuple[np.ndarray, np.ndarray]:
    predictions, labels = np.asarray(predictions, dtype).reshape(-1), np.asarray(labels, dtype).reshape(-1)
    if predictions.shape != labels.shape:
        raise InputError(f"Expected as many predictions as labels. Received: {predictions.size} and {labels.size}")
    if predictions.size == 0:
        raise InputError("Expected at least one prediction to score.")
    return predictions, labels


def accuracy(predictions, labels) -> float:
    """Share of predictions equal to their label.

    Example:
    >>> accuracy([0, 1, 1], [0, 1, 0])
    0.6666666666666666
    """
    predictions, labels = _pair(predictions, labels, np.int64)
    return float(np.mean(predictions == labels))


def f1(predictions, labels, positive: int = 1) -> float:
    """F1 of the positive class (GLUE's MRPC/QQP F1); 0.0 when there are no true positives.

    Example:
    >>> f1([1, 1, 0, 0], [1, 0, 1, 0])
    0.5
    """
    predictions, labels = _pair(predictions, labels, np.int64)
    true_positives = np.sum((predictions == positive) & (labels == positive))
    predicted, actual = np.sum(predictions == positive), np.sum(labels == positive)
    if true_positives == 0:
        return 0.0
    return float(2 * true_positives / (predicted + actual))


def matthews_corrcoef(predictions, labels) -> float:
    """Matthews correlation coefficient, multi-class (Gorodkin's R_K), as `sklearn.metrics.matthews_corrcoef`.

    With C the confusion matrix, t_k / p_k the true / predicted counts of class k, c the correct count and s the
    total: (c s - sum t_k p_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)); 0.0 when the denominator is 0.

    Example:
    >>> matthews_corrcoef([0, 0, 1, 1], [0, 1, 1, 1])
    0.5773502691896258
    """
    predictions, labels = _pair(predictions, labels, np.int64)
    classes, encoded = np.unique(np.concatenate([labels, predictions]), return_inverse=True)
    true_ids, predicted_ids = encoded[: labels.size], encoded[labels.size :]
    confusion = np.zeros([classes.size, classes.size], np.float64)  # [true, predicted]
    np.add.at(confusion, (true_ids, predicted_ids), 1)
    true_counts, predicted_counts = confusion.sum(1), confusion.sum(0)
    correct, total = np.trace(confusion), confusion.sum()
    covariance = correct * total - np.dot(true_counts, predicted_counts)
    denominator = (total**2 - np.dot(predicted_counts, predicted_counts)) * (
        total**2 - np.dot(true_counts, true_counts)
    )
    if denominator == 0:
        return 0.0
    return float(covariance / math.sqrt(denominator))


def pearson(predictions, labels) -> float:
    """Pearson's correlation coefficient (NaN when either input is constant).

    Example:
    >>> pearson([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])
    0.9933992677987828
    """
    x, y = _pair(predictions, labels, np.float64)
    x, y = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
    if denominator == 0:
        return float("nan")
    return float(np.clip(np.dot(x, y) / denominator, -1.0, 1.0))


def average_ranks(values) -> np.ndarray:
    """1-based ranks, tied values sharing the average of their ranks (scipy's `rankdata(method="average")`).

    Example:
    >>> average_ranks([10, 20, 10, 30]).tolist()
    [1.5, 3.0, 1.5, 4.0]
    """
    values = np.asarray(values, np.float64).reshape(-1)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, np.float64)
    start = 0
    while start < values.size:
        end = start
        while end + 1 < values.size and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(predictions, labels) -> float:
    """Spearman's rank correlation: Pearson's on average ranks (NaN when either input is constant).

    Example:
    >>> spearman([1.0, 2.0, 2.0, 5.0], [1.0, 3.0, 2.0, 4.0])
    0.9486832980505138
    """
    x, y = _pair(predictions, labels, np.float64)
    return pearson(average_ranks(x), average_ranks(y))


def classification_metrics(metric: str, predictions, labels) -> dict[str, float]:
    """The metrics a benchmark reports for its main `metric` (a preset's `metric`), plus accuracy.

    Args:
        metric: "accuracy" | "f1" | "mcc" | "pearson_spearman".
        predictions: class ids [N] (float scores [N] for "pearson_spearman").
        labels: gold class ids [N] (gold floats for "pearson_spearman").

    Returns:
        "accuracy": {"accuracy"}; "f1": {"f1", "accuracy"}; "mcc": {"mcc", "accuracy"};
        "pearson_spearman": {"pearson", "spearman"}.

    Example:
    >>> classification_metrics("pearson_spearman", [1.0, 2.0, 3.0], [1.0, 2.0, 3.5])
    {'pearson': 0.9933992677987828, 'spearman': 1.0}
    """
    if metric == "pearson_spearman":
        return {"pearson": pearson(predictions, labels), "spearman": spearman(predictions, labels)}
    if metric == "accuracy":
        return {"accuracy": accuracy(predictions, labels)}
    if metric == "f1":
        return {"f1": f1(predictions, labels), "accuracy": accuracy(predictions, labels)}
    if metric == "mcc":
        return {"mcc": matthews_corrcoef(predictions, labels), "accuracy": accuracy(predictions, labels)}
    raise InputError(f"Unknown classification metric {metric!r}. Expected one of {', '.join(METRICS)}.")
