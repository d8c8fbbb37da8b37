"""The distributed input of a pretraining run: per-replica micro-batches, resumable by position.

Each input pipeline yields micro-batches of `global_batch / (replicas x grad_accum)` examples; one optimizer
step consumes `grad_accum` of them per replica. The data order is a pure function of the seed, so the
position after `step` optimizer steps is `step x grad_accum x replicas-per-pipeline` elements, and a resumed
run skips exactly that many (`tf.distribute` iterators cannot be checkpointed, and a skip over a seeded
pipeline lands where the interrupted run was).

Example:
>>> source = TrainingData.open(data_dir="data/")  # doctest: +SKIP
>>> iterator = iter(distributed_dataset(strategy, source, 128, grad_accum=1, seed=0, start_step=0))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from electra_tf.errors import InputError


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """Where examples come from: a prepared data folder (with its manifest) or raw text streamed.

    Attributes:
        tokenizer: electra_tf.Tokenizer of the vocabulary the model is built for.
        vocab_file: str. That vocabulary's file (copied into the final model directory).
        seq_length: int or None. Fixed by prepared data; None when streaming (the config decides).
        manifest: DataManifest or None. Set for prepared data.
        corpus: tuple of str. Set for streaming.
    """

    tokenizer: object
    vocab_file: str
    seq_length: int | None
    manifest: object = None
    corpus: tuple = ()

    @classmethod
    def open(cls, data_dir=None, corpus=(), vocab_file=None, lowercase=True) -> "TrainingData":
        """Reads a data folder's manifest (checking `vocab_file` against it), or sets up streaming."""
        from electra_tf.data.manifest import read_manifest
        from electra_tf.tokenization import Tokenizer

        if data_dir:
            manifest = read_manifest(data_dir)
            if vocab_file:
                manifest.check_vocab(vocab_file)
            if manifest.num_examples == 0:
                raise InputError(f"The data folder {data_dir!r} holds no examples.")
            tokenizer = Tokenizer(manifest.vocab_path, lowercase=manifest.lowercase)
            return cls(tokenizer, manifest.vocab_path, manifest.seq_length, manifest=manifest)
        return cls(Tokenizer(vocab_file, lowercase=lowercase), vocab_file, None, corpus=tuple(corpus))

    def dataset(self, batch_size, seq_length, input_context, seed) -> tf.data.Dataset:
        """An endless, seeded dataset of `batch_size`-example batches for one input pipeline."""
        if self.manifest is not None:
            from electra_tf.data.pipeline import pretraining_dataset

            return pretraining_dataset(
                self.manifest.data_dir, batch_size, input_context=input_context, seed=seed, manifest=self.manifest
            )
        from electra_tf.data.streaming import streaming_dataset

        return streaming_dataset(
            list(self.corpus), self.tokenizer, seq_length, batch_size, input_context=input_context, seed=seed
        )


def micro_batch_size(global_batch: int, num_replicas: int, grad_accum: int) -> int:
    """Examples per replica per micro-batch; the global batch must split evenly."""
    if global_batch % (num_replicas * grad_accum):
        raise InputError(
            f"The global batch size {global_batch} does not split over {num_replicas} replica(s) x "
            f"{grad_accum} accumulation step(s). Use a multiple of {num_replicas * grad_accum}."
        )
    return global_batch // (num_replicas * grad_accum)


def distributed_dataset(strategy, source: TrainingData, global_batch, *, seq_length, grad_accum, seed, start_step):
    """`strategy.distribute_datasets_from_function` over `source`, positioned after `start_step` steps.

    Returns: a distributed dataset whose elements are per-replica micro-batches.
    """
    micro_batch_size(global_batch, strategy.num_replicas_in_sync, grad_accum)  # validates the split
    global_micro_batch = global_batch // grad_accum

    def dataset_fn(input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = source.dataset(global_micro_batch, seq_length, input_context, seed)
        replicas_per_pipeline = input_context.num_replicas_in_sync // input_context.num_input_pipelines
        return dataset.skip(start_step * grad_accum * replicas_per_pipeline)

    return strategy.distribute_datasets_from_function(dataset_fn)
