"""Measuring models on held-out data.

- `roc_auc`, `evaluate_pretraining`, `PretrainingEvaluator` (`pretraining_metrics.py`): the pretraining
  objectives on held-out batches with fixed masks: MLM loss and accuracy, RTD loss, accuracy, precision,
  recall and exact ROC-AUC.

Example:
>>> from electra_tf.evaluation import roc_auc
>>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
0.75
"""

import importlib

_EXPORTS = {
    "PretrainingEvaluator": "pretraining_metrics",
    "evaluate_pretraining": "pretraining_metrics",
    "roc_auc": "pretraining_metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"electra_tf.evaluation.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'electra_tf.evaluation' has no attribute {name!r}")
