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
        seed: int or None. Seed of the shuffles.
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
        deterministic=not shuffle_files,
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
        _parser(manifest.seq_length), num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


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
