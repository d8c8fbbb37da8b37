"""From raw text to training batches: corpus reading, example building, TFRecord shards, tf.data input.

- `CorpusReader` (`corpus.py`): files, folders, globs, `.txt`/`.gz`; layouts; repairs counted.
- `ExampleBuilder` (`example_builder.py`): the official ELECTRA example algorithm, seeded.
- `prepare_pretraining_data` (`preparation.py`): corpus -> shards + vocabulary + `manifest.json`
  (the library side of `electra-tf prepare`); `read_manifest` (`manifest.py`) reads it back.
- `pretraining_dataset` (`pipeline.py`): batches of `input_word_ids`/`input_mask`/`input_type_ids` from the
  shards, sharded per `tf.distribute.InputContext`; `streaming_dataset` (`streaming.py`): the same from raw
  text, packed on the fly.
- `write_builtin_corpus` (`builtin_corpus.py`): the offline docstring corpus of `electra-tf corpus --builtin`.

Example:
>>> manifest = prepare_pretraining_data(["books/"], "vocab.txt", "data/")  # doctest: +SKIP
>>> dataset = pretraining_dataset("data/", batch_size=128)  # doctest: +SKIP
"""

from electra_tf.data.builtin_corpus import write_builtin_corpus
from electra_tf.data.corpus import CorpusOptions, CorpusReader, resolve_corpus_paths
from electra_tf.data.example_builder import ExampleBuilder, stack_examples
from electra_tf.data.manifest import DataManifest, read_manifest
from electra_tf.data.pipeline import pretraining_dataset
from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data
from electra_tf.data.streaming import streaming_dataset

__all__ = [
    "CorpusOptions",
    "CorpusReader",
    "DataManifest",
    "ExampleBuilder",
    "PrepareOptions",
    "pretraining_dataset",
    "prepare_pretraining_data",
    "read_manifest",
    "resolve_corpus_paths",
    "stack_examples",
    "streaming_dataset",
    "write_builtin_corpus",
]
