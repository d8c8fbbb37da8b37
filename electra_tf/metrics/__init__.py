"""Evaluation metrics of the fine-tuning tasks, each exactly as its benchmark's official script defines it.

| module | metrics | reference |
|---|---|---|
| `classification` | accuracy, F1, Matthews correlation, Pearson, Spearman | GLUE (scikit-learn / scipy) |
| `squad` | EM and F1 in 0-100, SQuAD 2.0 no-answers and best thresholds | evaluate-v1.1.py, evaluate-v2.0.py |
| `cmrc` | CMRC 2018 character-level F1 and EM in 0-100 | cmrc2018_evaluate.py |
| `entity` | entity-level precision, recall, F1 (IOB1, IOB2, BIOES) | conlleval, seqeval |

Example:
>>> from electra_tf.metrics.classification import matthews_corrcoef
>>> round(matthews_corrcoef([1, 1, 0, 0], [1, 0, 0, 0]), 4)
0.5774
"""
