"""Held-out batches from raw text: documents or files through the same example builder as `electra-tf prepare`.

`evaluate-pretraining` measures a model on text it may never have seen: the text is split into sentences,
tokenized with the model's own vocabulary and packed into `[CLS] A [SEP] B [SEP]` examples by the official
algorithm (`ExampleBuilder`, seeded), exactly as pretraining data is, so the numbers are comparable with the
held-out split of a prepared data folder.

Example:
>>> features = examples_from_documents([["The cat sat.", "It purred."]], tokenizer, seq_length=128)  # doctest: +SKIP
>>> features["input_ids"].shape  # doctest: +SKIP
(1, 128)
>>> dataset = batches_from_features(features, batch_size=32)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from electra_tf.errors import InputError


def examples_from_documents(documents, tokenizer, seq_length: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Packs documents of sentences into pretraining examples.

    Args:
        documents: list of list of str. Each document is a list of sentences (a `str` alone is split into
            sentences with `electra_tf.data.sentences.split_sentences`).
        tokenizer: electra_tf.Tokenizer. The model's tokenizer.
        seq_length: int. Tokens per example, [CLS]/[SEP] included.
        seed: int. Seed of the example builder.

    Returns:
        dict `input_ids`, `input_mask`, `segment_ids`: np.ndarray int64 [examples, seq_length].

    Raises:
        InputError: no text, or text that tokenizes to nothing.
    """
    from electra_tf.data.sentences import split_sentences

    sentences, ends = [], []
    for document in documents:
        parts = split_sentences(document) if isinstance(document, str) else [s.strip() for s in document]
        parts = [part for part in parts if part]
        if parts:
            sentences += parts
            ends += [False] * (len(parts) - 1) + [True]
    if not sentences:
        raise InputError("No text to evaluate on: every document given is empty.")
    return _build(tokenizer, seq_length, seed, [(sentences, np.array(ends, bool))])


def examples_from_files(paths, tokenizer, seq_length: int, seed: int = 0, corpus_options=None) -> dict[str, np.ndarray]:
    """Packs text files (read as `electra-tf prepare` reads a corpus) into pretraining examples.

    Args:
        paths: list of str. Files, folders, globs (`.txt`, `.gz`); layouts detected per file.
        tokenizer: electra_tf.Tokenizer.
        seq_length: int.
        seed: int.
        corpus_options: electra_tf.data.CorpusOptions or None.

    Returns:
        dict of np.ndarray int64 [examples, seq_length], as `examples_from_documents`.
    """
    from electra_tf.data.corpus import CorpusReader

    blocks = []
    for block in CorpusReader(paths, corpus_options).blocks():
        ends = np.zeros([len(block.sentences)], bool)
        ends[block.document_ends] = True
        blocks.append((block.sentences, ends))
    return _build(tokenizer, seq_length, seed, blocks)


def _build(tokenizer, seq_length, seed, blocks) -> dict[str, np.ndarray]:
    from electra_tf.data.example_builder import ExampleBuilder, stack_examples

    builder = ExampleBuilder(int(seq_length), tokenizer.cls_id, tokenizer.sep_id, seed=seed)
    examples = []
    for sentences, ends in blocks:
        token_ids = tokenizer(list(sentences))  # [sentences, (tokens)]
        examples += builder.add_sentences(
            token_ids.flat_values.numpy(), token_ids.row_splits.numpy(), ends
        )
    if not examples:
        raise InputError(
            f"The text gave no examples: {builder.stats.sentences} sentence(s) tokenized to nothing. "
            "Expected text in the vocabulary's language."
        )
    return stack_examples(examples, int(seq_length), tokenizer.cls_id, tokenizer.sep_id)


def batches_from_features(features: dict, batch_size: int):
    """A `tf.data.Dataset` of model input dicts (int32 `[batch, seq]`) over `features`, in order, once."""
    from electra_tf.data.short_lived import batched_arrays

    inputs = {
        "input_word_ids": np.asarray(features["input_ids"], np.int32),
        "input_mask": np.asarray(features["input_mask"], np.int32),
        "input_type_ids": np.asarray(features["segment_ids"], np.int32),
    }
    return batched_arrays(inputs, int(batch_size))
