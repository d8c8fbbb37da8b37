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

import importlib

# Public name -> the module that defines it; loaded on first use so that the command line (which
# reads `CORPUS_FORMATS` from `corpus.py`) starts without importing TensorFlow.
_EXPORTS = {
    "CorpusOptions": "corpus",
    "CorpusReader": "corpus",
    "DataManifest": "manifest",
    "ExampleBuilder": "example_builder",
    "PrepareOptions": "preparation",
    "pretraining_dataset": "pipeline",
    "prepare_pretraining_data": "preparation",
    "read_manifest": "manifest",
    "resolve_corpus_paths": "corpus",
    "stack_examples": "example_builder",
    "streaming_dataset": "streaming",
    "write_builtin_corpus": "builtin_corpus",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"electra_tf.data.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'electra_tf.data' has no attribute {name!r}")
