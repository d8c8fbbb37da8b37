"""`write_scalars`: TensorBoard scalars of a pretraining run, through `tf.summary.scalar` (the `tensorboard` package).

`RUN_DIR/logs/train` and `RUN_DIR/logs/validation` hold one event file per invocation; the same tag (`loss`,
`rtd_auc`, ...) in both folders is drawn as two curves of one chart by `tensorboard --logdir RUN_DIR/logs`.

Example:
>>> with tf.summary.create_file_writer("/tmp/logs/train").as_default():  # doctest: +SKIP
...     write_scalars({"loss": 3.2, "learning_rate": 1e-4}, step=100)
"""

from __future__ import annotations

import math

import tensorflow as tf


def write_scalars(metrics: dict, step: int) -> None:
    """Writes each finite value of `metrics` as a scalar to the default summary writer (a no-op without one)."""
    for name, value in metrics.items():
        if math.isfinite(value):
            tf.summary.scalar(name, float(value), step=step)


def write_scalar(name: str, value: float, step: int) -> None:
    """Writes one scalar point to the default summary writer (a no-op without one)."""
    tf.summary.scalar(name, float(value), step=step)
