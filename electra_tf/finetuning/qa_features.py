"""Windows over long contexts for extractive question answering, as BERT's `run_squad.py` builds them.

Each question becomes one or more features `[CLS] question [SEP] context-window [SEP]`: the question truncated
to `max_query_length` pieces, the context cut into windows of at most `seq_length - len(question) - 3` pieces
that start every `doc_stride` pieces (the last window ends at the context's end). Per feature we keep, for every
context token, its character span in the ORIGINAL context (so an answer is a slice of the user's text, for
English and Chinese alike: see `word_pieces.py`) and whether this window gives the token its maximum context
(BERT's `_check_is_max_context`: the most tokens on its shorter side, ties to the longer window).

Targets: the first gold answer's first and last token when the window holds all of it; 0 ([CLS]) when it does
not or the question is impossible (SQuAD 2.0), with `answerable` 0.

Example:
>>> features = build_qa_features(squad.examples, tokenizer, seq_length=384, doc_stride=128,
...                              max_query_length=64)  # doctest: +SKIP
>>> features.inputs()["input_word_ids"].shape, features.start_positions[:3]  # doctest: +SKIP
((1245, 384), array([ 43,   0, 101], dtype=int32))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import QuestionAnsweringExample
from electra_tf.finetuning.word_pieces import tokenize_texts, tokenize_with_offsets


class WindowInputs:
    """`len()` and `inputs()` of features made of F windows: `input_word_ids`, `input_mask`, `input_type_ids`.

    A base of `QAFeatures` and `tagging_features.TaggingFeatures`, whose fields hold the three int32 [F, L] arrays.

    Example:
    >>> @dataclasses.dataclass
    ... class Windows(WindowInputs):
    ...     input_word_ids: np.ndarray
    ...     input_mask: np.ndarray
    ...     input_type_ids: np.ndarray
    >>> windows = Windows(*[np.zeros([3, 8], np.int32)] * 3)
    >>> len(windows), sorted(windows.inputs())
    (3, ['input_mask', 'input_type_ids', 'input_word_ids'])
    """

    def __len__(self) -> int:
        return int(self.input_word_ids.shape[0])

    def inputs(self) -> dict[str, np.ndarray]:
        """The TF Hub BERT input dict, int32 [F, L] each."""
        return {
            "input_word_ids": self.input_word_ids,
            "input_mask": self.input_mask,
            "input_type_ids": self.input_type_ids,
        }


@dataclasses.dataclass
class QAFeatures(WindowInputs):
    """Model inputs, targets and the bookkeeping `qa_decoding.decode_qa` needs. F features of length L."""

    input_word_ids: np.ndarray  # int32 [F, L]
    input_mask: np.ndarray  # int32 [F, L]
    input_type_ids: np.ndarray  # int32 [F, L]
    example_index: np.ndarray  # int32 [F], index of the feature's example in the examples list
    token_char_start: np.ndarray  # int32 [F, L], context tokens: first character in the context; else -1
    token_char_end: np.ndarray  # int32 [F, L], context tokens: one past the last character; else -1
    token_is_max_context: np.ndarray  # bool [F, L], True where this window is the token's best context
    start_positions: np.ndarray  # int32 [F], first answer token, 0 ([CLS]) when none in this window
    end_positions: np.ndarray  # int32 [F], last answer token (inclusive), 0 when none
    answerable: np.ndarray  # int32 [F], 1 when the window holds the answer

    def targets(self) -> dict[str, np.ndarray]:
        """Training targets: `start_positions`, `end_positions`, `answerable`, int32 [F] each."""
        return {
            "start_positions": self.start_positions,
            "end_positions": self.end_positions,
            "answerable": self.answerable,
        }


def doc_spans(num_tokens: int, max_tokens: int, doc_stride: int) -> list[tuple[int, int]]:
    """(start, length) of BERT's sliding windows over `num_tokens` context tokens.

    Example:
    >>> doc_spans(10, 4, 3)
    [(0, 4), (3, 4), (6, 4)]
    >>> doc_spans(0, 4, 3)
    [(0, 0)]
    """
    spans, start = [], 0
    while True:
        length = min(num_tokens - start, max_tokens)
        spans.append((start, length))
        if start + length >= num_tokens:
            return spans
        start += min(length, doc_stride)


def max_context_flags(spans: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Per span, bool [length]: whether that span is the token's maximum context (BERT's rule).

    Score of a token in a span: min(tokens left of it, tokens right of it) + 0.01 * span length; the best span
    wins, the earlier one on a tie.

    Example:
    >>> [flags.tolist() for flags in max_context_flags([(0, 4), (2, 4)])]
    [[True, True, True, False], [False, True, True, True]]
    """
    if not spans:
        return []
    total = max(start + length for start, length in spans)
    best_score = np.full([total], -np.inf)
    best_span = np.full([total], -1)
    for index, (start, length) in enumerate(spans):
        positions = np.arange(start, start + length)
        score = np.minimum(positions - start, start + length - 1 - positions) + 0.01 * length
        better = score > best_score[positions]
        best_score[positions[better]] = score[better]
        best_span[positions[better]] = index
    return [best_span[start : start + length] == index for index, (start, length) in enumerate(spans)]


def answer_token_span(
    char_start: np.ndarray, char_end: np.ndarray, answer_start: int, answer_end: int
) -> tuple[int, int] | None:
    """First and last context token overlapping the characters [answer_start, answer_end), or None.

    Example:
    >>> answer_token_span(np.array([0, 4, 8]), np.array([3, 7, 11]), 4, 11)
    (1, 2)
    """
    overlapping = np.nonzero((char_end > answer_start) & (char_start < answer_end))[0]
    if overlapping.size == 0:
        return None
    return int(overlapping[0]), int(overlapping[-1])


def build_qa_features(
    examples: Sequence[QuestionAnsweringExample],
    tokenizer,
    *,
    seq_length: int = 384,
    doc_stride: int = 128,
    max_query_length: int = 64,
) -> QAFeatures:
    """Builds the windows of every question (training and evaluation alike).

    Args:
        examples: Sequence[QuestionAnsweringExample].
        tokenizer: electra_tf.Tokenizer.
        seq_length: int. Feature length L.
        doc_stride: int. Pieces between the starts of consecutive windows.
        max_query_length: int. Questions longer than this (in pieces) are cut.

    Returns:
        QAFeatures, features in example order (all windows of example 0, then of example 1, ...).

    Raises:
        InputError: no examples, or settings that leave no room for the context
            (needs seq_length > max_query_length + 3), or doc_stride < 1.

    Example:
    >>> features = build_qa_features([example], tokenizer, seq_length=64, doc_stride=16,
    ...                              max_query_length=16)  # doctest: +SKIP
    """
    if not examples:
        raise InputError("No question answering examples to build features from.")
    if max_query_length < 1 or seq_length <= max_query_length + 3:
        raise InputError(
            f"Expected seq_length > max_query_length + 3 (room for [CLS] question [SEP] context [SEP]). "
            f"Received: seq_length={seq_length}, max_query_length={max_query_length}"
        )
    if doc_stride < 1:
        raise InputError(f"Expected doc_stride to be a positive integer. Received: doc_stride={doc_stride!r}")
    questions = tokenize_texts(tokenizer, [example.question for example in examples])
    contexts = tokenize_with_offsets(tokenizer, [example.context for example in examples])
    rows: dict[str, list] = {field.name: [] for field in dataclasses.fields(QAFeatures)}
    for example_index, example in enumerate(examples):
        query = questions[example_index][:max_query_length]
        ids, char_start, char_end = contexts[example_index]
        answer = None  # (first, last) context token of the first gold answer
        if not example.is_impossible and example.answers:
            gold = example.answers[0]
            answer = answer_token_span(char_start, char_end, gold.char_start, gold.char_start + len(gold.text))
        max_tokens = seq_length - len(query) - 3
        spans = doc_spans(len(ids), max_tokens, doc_stride)
        for (start, length), is_max in zip(spans, max_context_flags(spans)):
            offset = len(query) + 2  # position of the window's first token
            window = ids[start : start + length].tolist()
            sequence = [tokenizer.cls_id, *query, tokenizer.sep_id, *window, tokenizer.sep_id]
            word_ids = np.full([seq_length], tokenizer.pad_id, np.int32)
            word_ids[: len(sequence)] = sequence
            mask = np.zeros([seq_length], np.int32)
            mask[: len(sequence)] = 1
            type_ids = np.zeros([seq_length], np.int32)
            type_ids[offset : len(sequence)] = 1
            starts = np.full([seq_length], -1, np.int32)
            ends = np.full([seq_length], -1, np.int32)
            starts[offset : offset + length] = char_start[start : start + length]
            ends[offset : offset + length] = char_end[start : start + length]
            max_context = np.zeros([seq_length], bool)
            max_context[offset : offset + length] = is_max
            start_position = end_position = 0
            if answer is not None and start <= answer[0] and answer[1] < start + length:
                start_position, end_position = answer[0] - start + offset, answer[1] - start + offset
            rows["input_word_ids"].append(word_ids)
            rows["input_mask"].append(mask)
            rows["input_type_ids"].append(type_ids)
            rows["example_index"].append(example_index)
            rows["token_char_start"].append(starts)
            rows["token_char_end"].append(ends)
            rows["token_is_max_context"].append(max_context)
            rows["start_positions"].append(start_position)
            rows["end_positions"].append(end_position)
            rows["answerable"].append(int(start_position > 0))
    return QAFeatures(
        input_word_ids=np.stack(rows["input_word_ids"]),
        input_mask=np.stack(rows["input_mask"]),
        input_type_ids=np.stack(rows["input_type_ids"]),
        example_index=np.array(rows["example_index"], np.int32),
        token_char_start=np.stack(rows["token_char_start"]),
        token_char_end=np.stack(rows["token_char_end"]),
        token_is_max_context=np.stack(rows["token_is_max_context"]),
        start_positions=np.array(rows["start_positions"], np.int32),
        end_positions=np.array(rows["end_positions"], np.int32),
        answerable=np.array(rows["answerable"], np.int32),
    )
