"""`pretraining_dataset`: the tf.data input pipeline over the shards written by `electra-tf prepare`.

Batches are dicts of int32 `[batch, seq_length]` tensors with the TF Hub BERT names the models take:
`input_word_ids`, `input_mask`, `input_type_ids`. Under a `tf.distribute` strategy, pass the
`tf.distribute.InputContext` (as `strategy.distribute_datasets_from_function` does) and each input pipeline
reads its own part of the data and batches `input_context.get_per_replica_batch_size(batch_size)`.

Example:
>>> strategy = tf.distribute.MirroredStrategy()  # doctest: +SKIP
>>> dataset = strategy.distribute_datasets_from_function(
...     lambda context: pretraining_dataset("data/", batch_size=128, input_context=context))  # doctest: +SKIP
>>> batch = next(iter(pretraining_dataset("data/", batch_size=32)))  # doctest: +SKIP
>>> batch["input_word_ids"].shape, batch["input_word_ids"].dtype  # doctest: +SKIP
(TensorShape([32, 128]), tf.int32)
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.data.manifest import DataManifest, read_manifest
from electra_tf.data.short_lived import for_short_lived_iterator
from electra_tf.errors import InputError

DEFAULT_SHUFFLE_BUFFER = 10_000  # examples; the shards are already round-robin mixed across documents
MAX_CYCLE_LENGTH = 16  # shards read at once


def pretraining_dataset(
    data_dir,
    batch_size: int,
    *,
    input_context: tf.distribute.InputContext | None = None,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int | None = None,
    shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
    manifest: DataManifest | None = None,
) -> tf.data.Dataset:
    """Reads the TFRecord shards of a data folder as batches of model inputs.

    Args:
        data_dir: str or os.PathLike. A folder written by `electra-tf prepare` (with `manifest.json`).
        batch_size: int. The global batch size; with `input_context`, each input pipeline batches
            `input_context.get_per_replica_batch_size(batch_size)` examples.
        input_context: tf.distribute.InputContext or None. Splits the data between input pipelines: by
            shard files when there are at least as many files as pipelines, else by records.
        shuffle: bool. Shuffle the shard order and the examples (buffer of `shuffle_buffer`).
        repeat: bool. Repeat forever (pretraining counts steps, not epochs).
        seed: int or None. Seed of the shuffles. With a seed (or without shuffling) the order of the
            batches is a pure function of it: a resumed run skips to where an interrupted one stopped
            (`training/inputs.py`). With `shuffle=True, seed=None` the order is random anyway, and the
            parallel readers may deliver out of order.
        shuffle_buffer: int. Examples in the shuffle buffer.
        manifest: DataManifest or None. Read from `data_dir` when None.

    Returns:
        tf.data.Dataset of dicts `input_word_ids`, `input_mask`, `input_type_ids`: int32
        `[per_replica_batch, seq_length]`, with static shapes.
    """
    manifest = manifest or read_manifest(data_dir)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise InputError(f"Received an invalid value for batch_size, expected a positive integer. Received: {batch_size!r}")
    files = manifest.shard_paths
    num_pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    per_replica_batch = input_context.get_per_replica_batch_size(batch_size) if input_context else batch_size
    shard_by_files = num_pipelines > 1 and len(files) >= num_pipelines
    # Parallel reads and parses keep their input order unless nothing asks for a reproducible order: a resumed
    # run's skip must land where the interrupted run was. Measured cost on the read path: none beyond the noise
    # (sequences per CPU-second, one core, both settings alternating in one run).
    deterministic = not shuffle or seed is not None

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shard_by_files:
        dataset = dataset.shard(num_pipelines, pipeline_id)
    # Reading by records needs the same record order in every pipeline, so files are not shuffled then.
    shuffle_files = shuffle and not (num_pipelines > 1 and not shard_by_files)
    if shuffle_files:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    num_files = len(files) // num_pipelines if shard_by_files else len(files)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=max(1, min(num_files, MAX_CYCLE_LENGTH)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    )
    if num_pipelines > 1 and not shard_by_files:
        dataset = dataset.shard(num_pipelines, pipeline_id)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    # Fixed shapes: TPUs and XLA compile one program for one shape, so the last partial batch is dropped.
    dataset = dataset.batch(per_replica_batch, drop_remainder=True)
    dataset = dataset.map(
        _parser(manifest.seq_length), num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def validation_dataset(data_dir, batch_size: int, *, manifest: DataManifest | None = None) -> tf.data.Dataset:
    """The held-out examples of a data folder (`prepare --validation-fraction`), in file order, once.

    Args:
        data_dir: str or os.PathLike. A folder written by `electra-tf prepare`.
        batch_size: int. Examples per batch; the last batch may be smaller.
        manifest: DataManifest or None. Read from `data_dir` when None.

    Returns:
        tf.data.Dataset of dicts `input_word_ids`, `input_mask`, `input_type_ids`: int32 `[batch, seq_length]`,
        the same batches in the same order every time (for evaluations with fixed masks).

    Raises:
        InputError: the folder holds no held-out examples.
    """
    manifest = manifest or read_manifest(data_dir)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise InputError(f"Received an invalid value for batch_size, expected a positive integer. Received: {batch_size!r}")
    if manifest.num_validation_examples == 0:
        raise InputError(
            f"The data folder {manifest.data_dir!r} holds no held-out examples. Prepare it with "
            "--validation-fraction above 0 (the default is 0.01), or evaluate on text instead."
        )
    dataset = tf.data.TFRecordDataset(manifest.validation_shard_paths)
    dataset = dataset.batch(batch_size).map(_parser(manifest.seq_length))
    return for_short_lived_iterator(dataset.prefetch(tf.data.AUTOTUNE))  # read once per evaluation


def _parser(seq_length: int):
    features = {
        name: tf.io.FixedLenFeature([seq_length], tf.int64) for name in ("input_ids", "input_mask", "segment_ids")
    }

    def parse(records: tf.Tensor) -> dict[str, tf.Tensor]:
        """Parses a batch of serialized examples (one vectorised op, faster than parsing one by one)."""
        parsed = tf.io.parse_example(records, features)  # each int64 [batch, seq]
        # TFRecords store int64; TPUs want int32 (and it halves host-to-device traffic), so cast.
        return {
            "input_word_ids": tf.cast(parsed["input_ids"], tf.int32),
            "input_mask": tf.cast(parsed["input_mask"], tf.int32),
            "input_type_ids": tf.cast(parsed["segment_ids"], tf.int32),
        }

    return parse
