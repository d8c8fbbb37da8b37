"""`write_scalar`: a TensorBoard scalar without the `tensorboard` package.

`tf.summary.scalar` is implemented by the `tensorboard` pip package and fails without it. The event it writes
is a float32 tensor summary tagged for TensorBoard's `scalars` plugin; this module writes the same event with
core TensorFlow (`tf.summary.write`), so logs need no extra dependency and TensorBoard reads them as usual.

Example:
>>> with tf.summary.create_file_writer("/tmp/logs").as_default():  # doctest: +SKIP
...     write_scalar("loss", 3.2, step=100)
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
    data_class=summary_pb2.DATA_CLASS_SCALAR,
).SerializeToString()


def write_scalar(name: str, value: float, step: int) -> None:
    """Writes one scalar point to the default summary writer (a no-op without one)."""
    tf.summary.write(name, tf.constant(value, tf.float32), step=step, metadata=_SCALAR_METADATA)
