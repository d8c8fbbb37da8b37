"""Token tagging features: each word's tag on its first word piece, windows over long sentences.

A sentence's words are WordPiece'd one by one (a word the vocabulary cannot cover, or one made only of deleted
characters, becomes one [UNK] piece, so every word has a first piece). The label of a word goes on its first
piece; the other pieces, [CLS], [SEP] and padding get -1, which the tagger's loss ignores. A sentence longer
than `seq_length - 2` pieces is cut into windows that start every `stride` pieces (BERT's QA windows); each word
is predicted from the window where its first piece has the most context on its shorter side
(`qa_features.max_context_flags`), so `decode_tagging` gives exactly one tag per word.

Example:
>>> features = build_tagging_features(sentences, tokenizer, seq_length=128, tags=tags)  # doctest: +SKIP
>>> predicted = decode_tagging(sentences, features, logits, tags)  # doctest: +SKIP
>>> predicted[0]  # doctest: +SKIP
('B-ORG', 'O', 'B-MISC', 'O')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import TaggingExample
from electra_tf.finetuning.qa_features import WindowInputs, doc_spans, max_context_flags
from electra_tf.finetuning.word_pieces import tokenize_texts

IGNORED_LABEL = -1  # label of positions that carry no word's tag


@dataclasses.dataclass
class TaggingFeatures(WindowInputs):
    """Model inputs, per-position labels and the word bookkeeping of F windows of length L."""

    input_word_ids: np.ndarray  # int32 [F, L]
    input_mask: np.ndarray  # int32 [F, L]
    input_type_ids: np.ndarray  # int32 [F, L], all 0
    labels: np.ndarray  # int32 [F, L], tag id on each word's first piece, -1 elsewhere (and when unlabelled)
    example_index: np.ndarray  # int32 [F], the window's sentence
    word_index: np.ndarray  # int32 [F, L], index of the word whose first piece is here, else -1
    word_is_max_context: np.ndarray  # bool [F, L], True where this window predicts that word


def _tag_source(example: TaggingExample, word: int) -> str:
    """FILE:LINE of a word: CoNLL sentences have one word a line from the sentence's first line."""
    name, _, line = example.source.rpartition(":")
    if name and line.isdigit():
        return f"{name}:{int(line) + word}"
    return example.source or "a sentence"


def build_tagging_features(
    examples: Sequence[TaggingExample],
    tokenizer,
    *,
    seq_length: int = 128,
    tags: Sequence[str] | None = None,
    stride: int | None = None,
) -> TaggingFeatures:
    """Tokenizes sentences word by word and cuts them into labelled windows.

    Args:
        examples: Sequence[TaggingExample].
        tokenizer: electra_tf.Tokenizer.
        seq_length: int. Window length L including [CLS] and [SEP] (at least 3).
        tags: Sequence[str] | None. Tag names, id = position; needed when the examples have tags.
        stride: int | None. Pieces between window starts; default half a window.

    Returns:
        TaggingFeatures, windows in sentence order.

    Raises:
        InputError: no examples, seq_length < 3, a tag not in `tags` (naming FILE:LINE), tags without `tags`.

    Example:
    >>> features = build_tagging_features([TaggingExample(("EU", "rejects"), ("B-ORG", "O"))], tokenizer,
    ...                                   seq_length=8, tags=["O", "B-ORG"])  # doctest: +SKIP
    >>> features.labels.tolist()  # doctest: +SKIP
    [[-1, 1, 0, -1, -1, -1, -1, -1]]
    """
    if not examples:
        raise InputError("No tagging examples to build features from.")
    if not isinstance(seq_length, int) or seq_length < 3:
        raise InputError(f"Expected seq_length to be an integer of at least 3. Received: seq_length={seq_length!r}")
    max_pieces = seq_length - 2
    stride = max(1, max_pieces // 2) if stride is None else stride
    if stride < 1:
        raise InputError(f"Expected stride to be a positive integer. Received: stride={stride!r}")
    tag_ids = None if tags is None else {tag: index for index, tag in enumerate(tags)}
    word_pieces = dict(zip(*_unique_words(examples, tokenizer)))
    rows: dict[str, list] = {field.name: [] for field in dataclasses.fields(TaggingFeatures)}
    for example_index, example in enumerate(examples):
        if example.tags is not None and len(example.tags) != len(example.words):
            raise InputError(
                f"{example.source or 'a sentence'}: {len(example.tags)} tags for {len(example.words)} words. "
                f"Expected one tag per word."
            )
        pieces, first_of_word, labels = [], [], []
        for word_number, word in enumerate(example.words):
            ids = word_pieces[word] or [tokenizer.unk_id]
            label = IGNORED_LABEL
            if example.tags is not None:
                if tag_ids is None:
                    raise InputError("Expected the list of tags to build labelled tagging features.")
                tag = example.tags[word_number]
                if tag not in tag_ids:
                    known = ", ".join(repr(name) for name in tags)
                    raise InputError(f"{_tag_source(example, word_number)}: unknown tag {tag!r}. Known tags: {known}.")
                label = tag_ids[tag]
            pieces.extend(ids)
            first_of_word.extend([word_number] + [-1] * (len(ids) - 1))
            labels.extend([label] + [IGNORED_LABEL] * (len(ids) - 1))
        spans = doc_spans(len(pieces), max_pieces, stride)
        for (start, length), is_max in zip(spans, max_context_flags(spans)):
            word_ids = np.full([seq_length], tokenizer.pad_id, np.int32)
            word_ids[: length + 2] = [tokenizer.cls_id, *pieces[start : start + length], tokenizer.sep_id]
            mask = np.zeros([seq_length], np.int32)
            mask[: length + 2] = 1
            window_labels = np.full([seq_length], IGNORED_LABEL, np.int32)
            window_labels[1 : length + 1] = labels[start : start + length]
            word_index = np.full([seq_length], -1, np.int32)
            word_index[1 : length + 1] = first_of_word[start : start + length]
            max_context = np.zeros([seq_length], bool)
            max_context[1 : length + 1] = is_max & (word_index[1 : length + 1] >= 0)
            rows["input_word_ids"].append(word_ids)
            rows["input_mask"].append(mask)
            rows["input_type_ids"].append(np.zeros([seq_length], np.int32))
            rows["labels"].append(window_labels)
            rows["example_index"].append(example_index)
            rows["word_index"].append(word_index)
            rows["word_is_max_context"].append(max_context)
    return TaggingFeatures(
        input_word_ids=np.stack(rows["input_word_ids"]),
        input_mask=np.stack(rows["input_mask"]),
        input_type_ids=np.stack(rows["input_type_ids"]),
        labels=np.stack(rows["labels"]),
        example_index=np.array(rows["example_index"], np.int32),
        word_index=np.stack(rows["word_index"]),
        word_is_max_context=np.stack(rows["word_is_max_context"]),
    )


def _unique_words(examples: Sequence[TaggingExample], tokenizer) -> tuple[list[str], list[list[int]]]:
    words = list(dict.fromkeys(word for example in examples for word in example.words))
    return words, tokenize_texts(tokenizer, words)


def decode_tagging(
    examples: Sequence[TaggingExample], features: TaggingFeatures, logits, tags: Sequence[str]
) -> list[tuple[str, ...]]:
    """One tag per word from the windows' logits: argmax at each word's first piece, in its best window.

    Args:
        examples: the sentences the features were built from.
        features: TaggingFeatures.
        logits: float [F, L, num_tags], the tagger's output (or tag ids int [F, L]).
        tags: Sequence[str]. Tag names, id = position.

    Returns:
        per sentence, a tuple of tags, one per word.

    Raises:
        InputError: logits whose shape does not match the features.

    Example:
    >>> decode_tagging(sentences, features, outputs["logits"], tags)[0]  # doctest: +SKIP
    ('B-ORG', 'O')
    """
    logits = np.asarray(logits)
    ids = logits if logits.ndim == 2 else logits.argmax(-1)  # [F, L]
    if ids.shape != features.input_word_ids.shape:
        raise InputError(
            f"Expected logits of shape {list(features.input_word_ids.shape)} + [num_tags]. "
            f"Received: {list(logits.shape)}"
        )
    predicted = [[None] * len(example.words) for example in examples]
    features_index, positions = np.nonzero(features.word_is_max_context)
    for feature, position in zip(features_index.tolist(), positions.tolist()):
        example = features.example_index[feature]
        predicted[example][features.word_index[feature, position]] = tags[int(ids[feature, position])]
    return [tuple(row) for row in predicted]
