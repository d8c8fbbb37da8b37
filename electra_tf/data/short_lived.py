"""`for_short_lived_iterator`: a `tf.data` pipeline read once by an iterator that is then dropped, without stalling.

With autotuning on (tf.data's default), every iterator runs a model thread that re-optimizes the pipeline
in a loop and sleeps between rounds for 10 ms, then 20 ms, 40 ms and so on, doubling. Destroying the iterator
waits for that thread's current sleep to end, so a `Model.fit`, `evaluate` or `predict` call that finishes
its batches after 12 s returns at 20.47 s (the next wake-up, 10 ms × (2^11 − 1)): measured on TensorFlow 2.21,
where `fit` of five ELECTRA-Small steps took 20.5 s for 11.8 s of steps. Pipelines read by one short pass —
one fine-tuning epoch, one prediction or evaluation pass — hold in-memory slices and batches, with nothing
for autotuning to tune, so this turns it off for them. Long-lived pretraining pipelines (one iterator for the
whole run, parallel reads and parsing) keep it.

Example:
>>> import tensorflow as tf
>>> dataset = for_short_lived_iterator(tf.data.Dataset.range(4).batch(2))
>>> dataset.options().autotune.enabled
False
>>> [batch.tolist() for batch in batched_arrays({"ids": [[1], [2], [3]]}, 2).as_numpy_iterator()]  # doctest: +SKIP
[{'ids': [[1], [2]]}, {'ids': [[3]]}]
"""

from __future__ import annotations


def for_short_lived_iterator(dataset):
    """`dataset` with tf.data autotuning off (see the module docstring).

    Args:
        dataset: tf.data.Dataset.

    Returns:
        tf.data.Dataset. The same elements, in the same order.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def batched_arrays(inputs, batch_size: int):
    """In-memory arrays as batches for one `Model.predict` pass: what `predict(arrays, batch_size=...)` reads,
    without the stall of its own (autotuned) pipeline.

    Args:
        inputs: dict of arrays (or one array) with the examples along the first axis.
        batch_size: int. Examples per batch; the last batch may be smaller.

    Returns:
        tf.data.Dataset of the batches, in order.
    """
    import tensorflow as tf

    return for_short_lived_iterator(tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size))
