"""Packed model inputs and label ids for classification and regression examples (numpy, for `model.fit`).

Each example becomes `[CLS] text_a [SEP] (text_b [SEP])` padded to `seq_length`, a pair truncated longest-first
as BERT's `_truncate_seq_pair` does (one token at a time from the end of the longer text, from text_b on a tie),
which is what `electra_tf.input_packing.pack_inputs` computes in the exported signatures, so a served model
sees the same ids as in training.

Example:
>>> features = build_classification_features(examples, tokenizer, seq_length=128,
...                                          labels=["0", "1"])  # doctest: +SKIP
>>> sorted(features), features["input_word_ids"].shape  # doctest: +SKIP
(['input_mask', 'input_type_ids', 'input_word_ids', 'labels'], (527, 128))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import ClassificationExample
from electra_tf.finetuning.readers.labels import parse_regression_label
from electra_tf.finetuning.word_pieces import tokenize_texts

INPUT_KEYS = ("input_word_ids", "input_mask", "input_type_ids")


def truncate_pair_lengths(length_a: int, length_b: int, budget: int) -> tuple[int, int]:
    """Lengths after BERT's longest-first truncation of a pair to at most `budget` tokens.

    Example:
    >>> truncate_pair_lengths(10, 10, 6), truncate_pair_lengths(2, 9, 6), truncate_pair_lengths(7, 6, 6)
    ((3, 3), (2, 4), (3, 3))
    """
    half_up = (budget + 1) // 2
    new_a = min(length_a, max(budget - length_b, half_up))
    return new_a, min(length_b, budget - new_a)


def pack_ids(
    ids_a: Sequence[Sequence[int]],
    ids_b: Sequence[Sequence[int]] | None,
    *,
    seq_length: int,
    cls_id: int,
    sep_id: int,
    pad_id: int = 0,
) -> dict[str, np.ndarray]:
    """Packs token id lists into the TF Hub BERT input dict (numpy twin of `input_packing.pack_inputs`).

    Args:
        ids_a: per example, the ids of the first text.
        ids_b: per example, the ids of the second text, or None.
        seq_length: int. Row length (at least 2, or 3 for pairs).
        cls_id, sep_id, pad_id: int. Special token ids.

    Returns:
        dict of int32 [batch, seq_length]: input_word_ids, input_mask, input_type_ids.

    Example:
    >>> pack_ids([[7, 8, 9]], [[4, 4]], seq_length=6, cls_id=101, sep_id=102)["input_word_ids"].tolist()
    [[101, 7, 8, 102, 4, 102]]
    """
    specials = 3 if ids_b is not None else 2
    if not isinstance(seq_length, int) or seq_length < specials:
        raise InputError(
            f"Expected seq_length to be an integer of at least {specials}. Received: seq_length={seq_length!r}"
        )
    batch = len(ids_a)
    word_ids = np.full([batch, seq_length], pad_id, np.int32)  # [batch, seq_length]
    mask = np.zeros([batch, seq_length], np.int32)
    type_ids = np.zeros([batch, seq_length], np.int32)
    budget = seq_length - specials
    for row, tokens_a in enumerate(ids_a):
        tokens_b = ids_b[row] if ids_b is not None else None
        if tokens_b is None:
            length_a, length_b = min(len(tokens_a), budget), 0
        else:
            length_a, length_b = truncate_pair_lengths(len(tokens_a), len(tokens_b), budget)
        sequence = [cls_id, *tokens_a[:length_a], sep_id]
        if tokens_b is not None:
            sequence += [*tokens_b[:length_b], sep_id]
            type_ids[row, length_a + 2 : len(sequence)] = 1
        word_ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return {"input_word_ids": word_ids, "input_mask": mask, "input_type_ids": type_ids}


def label_ids(
    examples: Sequence[ClassificationExample], labels: Sequence[str] | None, regression: bool = False
) -> np.ndarray | None:
    """The examples' labels as model targets: int32 class ids (index in `labels`), or float32 for regression.

    Returns None when no example has a label (prediction input); a mix of labelled and unlabelled raises.

    Raises:
        InputError: a label not in `labels` (naming the example's FILE:LINE and the known labels), a regression
        label that is not a number, some examples labelled and some not.

    Example:
    >>> label_ids([ClassificationExample("a", label="pos")], ["neg", "pos"]).tolist()
    [1]
    """
    present = [example.label is not None for example in examples]
    if not any(present):
        return None
    if not all(present):
        missing = examples[present.index(False)]
        raise InputError(f"{missing.source or 'an example'}: no label, while other examples have one.")
    if regression:
        return np.array([parse_regression_label(example.label, example.source) for example in examples], np.float32)
    if labels is None:
        raise InputError("Expected the list of labels for classification (collect it from the training file).")
    index = {label: position for position, label in enumerate(labels)}
    ids = np.empty([len(examples)], np.int32)
    for row, example in enumerate(examples):
        if example.label not in index:
            known = ", ".join(repr(label) for label in labels)
            where = example.source or "an example"
            raise InputError(f"{where}: unknown label {example.label!r}. Known labels: {known}.")
        ids[row] = index[example.label]
    return ids


def build_classification_features(
    examples: Sequence[ClassificationExample],
    tokenizer,
    *,
    seq_length: int,
    labels: Sequence[str] | None = None,
    regression: bool = False,
) -> dict[str, np.ndarray]:
    """Tokenizes and packs examples for a sequence classifier (or regressor).

    Args:
        examples: Sequence[ClassificationExample]. All single texts, or all pairs.
        tokenizer: electra_tf.Tokenizer.
        seq_length: int. Packed length; longer inputs are truncated (pairs longest-first).
        labels: Sequence[str] | None. Class names, id = position; needed for labelled classification.
        regression: bool. Targets are floats parsed from the labels.

    Returns:
        dict: `input_word_ids`, `input_mask`, `input_type_ids` int32 [N, seq_length]; `labels` int32 [N]
        (float32 [N] for regression) when the examples are labelled.

    Raises:
        InputError: no examples, a mix of single texts and pairs, unknown labels (see `label_ids`).

    Example:
    >>> features = build_classification_features([ClassificationExample("a fine film", label="1")],
    ...                                          tokenizer, seq_length=8, labels=["0", "1"])  # doctest: +SKIP
    >>> features["input_word_ids"].tolist(), features["labels"].tolist()  # doctest: +SKIP
    ([[101, 1037, 2986, 2143, 102, 0, 0, 0]], [1])
    """
    if not examples:
        raise InputError("No examples to build features from.")
    pairs = {example.text_b is not None for example in examples}
    if len(pairs) > 1:
        single = next(example for example in examples if example.text_b is None)
        raise InputError(f"{single.source}: a single text among text pairs. Expected every example to have a pair.")
    ids_a = tokenize_texts(tokenizer, [example.text_a for example in examples])
    ids_b = tokenize_texts(tokenizer, [example.text_b for example in examples]) if True in pairs else None
    features = pack_ids(
        ids_a, ids_b, seq_length=seq_length, cls_id=tokenizer.cls_id, sep_id=tokenizer.sep_id, pad_id=tokenizer.pad_id
    )
    targets = label_ids(examples, labels, regression)
    if targets is not None:
        features["labels"] = targets
    return features
