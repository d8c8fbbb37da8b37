"""`ExampleBuilder`: turns tokenized sentences into pretraining examples, as ELECTRA's official builder does.

The algorithm is the one of google-research/electra `build_pretraining_dataset.py` (`ExampleBuilder`),
re-implemented on token-id arrays, with the same random decisions drawn in the same order from a seeded
`random.Random`, so a seed fixes the output:

1. Sentences of a document are accumulated until their tokens reach the target length (`seq_length`), or
   the document ends; then an example is made from them.
2. With probability 10% the example has a single segment (all sentences go to A). Otherwise A gets
   sentences while it stays under `(target - 3) // 2` tokens; the sentence that would cross that length goes
   to A with probability 50% (only while B is still empty); the others go to B. (A sentence that fits into
   A after B has started still goes to A, as in the official code.)
3. A is cut to `seq_length - 2` tokens and B to what is left for `[CLS] A [SEP] B [SEP]`; the cut tokens
   are lost, as in the official code, and counted in `BuilderStats.tokens_truncated`.
4. After each example, with probability 5% the next target length is a random integer in
   `[5, seq_length]` (short examples, as at fine-tuning time); otherwise it is `seq_length`.

Layout: `[CLS] A [SEP] B [SEP]` then padding id 0; segment ids 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`,
0 for padding; input mask 1 for real tokens. An example whose B is empty is `[CLS] A [SEP]`.

Example:
>>> builder = ExampleBuilder(seq_length=8, cls_id=101, sep_id=102, seed=1)
>>> builder.add_sentence(np.array([7, 8, 9], np.int32)) is None
True
>>> example = builder.add_sentence(np.array([10, 11, 12, 13, 14], np.int32))
>>> example.first_segment.tolist(), example.second_segment.tolist()  # B is cut to fit 8 tokens
([7, 8, 9], [10, 11])
>>> stack_examples([example], 8, cls_id=101, sep_id=102)["input_ids"].tolist()
[[101, 7, 8, 9, 102, 10, 11, 102]]

References:
    Clark et al., 2020. "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators".
    https://github.com/google-research/electra/blob/master/build_pretraining_dataset.py
"""

from __future__ import annotations

import bisect
import dataclasses
import random
from typing import NamedTuple

import numpy as np

from electra_tf.errors import InputError

SINGLE_SEGMENT_PROBABILITY = 0.1  # official: classification-like examples with one segment
SHORT_TARGET_PROBABILITY = 0.05  # official: a random shorter target length for the next example
MIN_SHORT_TARGET = 5  # official: random targets are drawn from [5, seq_length]
_EMPTY = np.zeros([0], np.int32)


class Example(NamedTuple):
    """One built example, before [CLS]/[SEP] and padding are added (see `stack_examples`).

    Attributes:
        first_segment: np.ndarray. int32 [first_length], the tokens of segment A.
        second_segment: np.ndarray. int32 [second_length], the tokens of segment B; empty for a
            single-segment example.
    """

    first_segment: np.ndarray
    second_segment: np.ndarray


@dataclasses.dataclass
class BuilderStats:
    """Counts of what went into the examples and what the official algorithm cut off."""

    sentences: int = 0  # sentences added
    sentences_without_tokens: int = 0  # sentences that tokenized to nothing (e.g. only control characters)
    tokens: int = 0  # WordPiece tokens of all sentences added
    examples: int = 0
    single_segment_examples: int = 0  # examples without a segment B
    short_target_examples: int = 0  # examples built towards a random shorter target (the 5%)
    tokens_in_examples: int = 0  # tokens written into examples (without [CLS]/[SEP])
    tokens_truncated: int = 0  # tokens cut off by step 3 of the algorithm

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class ExampleBuilder:
    """Accumulates tokenized sentences and emits examples (the algorithm of the module docstring).

    Args:
        seq_length: int. Tokens per example, [CLS] and [SEP]s included.
        cls_id: int. Id of [CLS].
        sep_id: int. Id of [SEP].
        seed: int. Seeds the random decisions; the same seed and input give the same examples.

    Example:
    >>> builder = ExampleBuilder(seq_length=128, cls_id=101, sep_id=102, seed=0)
    >>> builder.add_sentence(np.arange(1000, 1010, dtype=np.int32)) is None  # 10 tokens < 128
    True
    >>> builder.end_document().first_segment.tolist()
    [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]
    """

    def __init__(self, seq_length: int, cls_id: int, sep_id: int, seed: int = 0):
        if isinstance(seq_length, bool) or not isinstance(seq_length, int) or seq_length < MIN_SHORT_TARGET:
            raise InputError(
                f"Received an invalid value for seq_length, expected an integer >= {MIN_SHORT_TARGET}. "
                f"Received: seq_length={seq_length!r}"
            )
        self._seq_length = seq_length
        self._cls_id = int(cls_id)
        self._sep_id = int(sep_id)
        self._rng = random.Random(seed)
        # The pending sentences of the current document: their tokens in order, in one or more arrays (a
        # batch's consecutive sentences share one), and the length of each (empty sentences left out).
        self._chunks: list[np.ndarray] = []
        self._lengths: list[int] = []
        self._length = 0
        self._target_length = seq_length
        self.stats = BuilderStats()

    @property
    def seq_length(self) -> int:
        return self._seq_length

    def add_sentence(self, token_ids: np.ndarray) -> Example | None:
        """Adds one sentence of the current document; returns an example once the target length is reached.

        Args:
            token_ids: np.ndarray. int [tokens], the sentence's WordPiece ids.

        Returns:
            Example or None.
        """
        self.stats.sentences += 1
        self.stats.tokens += len(token_ids)
        if len(token_ids) == 0:
            # The official builder appends an empty list here, which changes no example and draws no number.
            self.stats.sentences_without_tokens += 1
            return None
        self._chunks.append(token_ids)
        self._lengths.append(len(token_ids))
        self._length += len(token_ids)
        if self._length >= self._target_length:
            return self._create_example()
        return None

    def end_document(self) -> Example | None:
        """Ends the current document; returns an example of its remaining sentences, if any."""
        if self._length == 0:
            return None
        return self._create_example()

    def add_sentences(self, token_ids: np.ndarray, row_splits, document_ends) -> list[Example]:
        """Adds a batch of sentences: the same as `add_sentence` on each, and `end_document` after each flagged.

        Works a target length at a time rather than a sentence at a time (fewer Python steps per sentence).

        Args:
            token_ids: np.ndarray. int [tokens], the tokens of all sentences, one after the other.
            row_splits: list or np.ndarray. int [sentences + 1]; sentence i is
                `token_ids[row_splits[i]:row_splits[i + 1]]`.
            document_ends: list or np.ndarray. bool [sentences]; True where a document ends after sentence i.

        Returns:
            list of Example. The examples completed, in order.

        Example:
        >>> builder = ExampleBuilder(seq_length=8, cls_id=101, sep_id=102, seed=1)
        >>> examples = builder.add_sentences(np.arange(10, 18, dtype=np.int32), [0, 3, 8], [False, True])
        >>> [(e.first_segment.tolist(), e.second_segment.tolist()) for e in examples]
        [([10, 11, 12], [13, 14])]
        """
        splits = np.asarray(row_splits, np.int64).tolist()  # Python ints: faster than NumPy scalars here
        count = len(splits) - 1
        lengths = [stop - start for start, stop in zip(splits, splits[1:])]
        self.stats.sentences += count
        self.stats.tokens += splits[-1] - splits[0]
        self.stats.sentences_without_tokens += lengths.count(0)
        document_lasts = np.flatnonzero(np.asarray(document_ends, bool)).tolist()
        ends_document = set(document_lasts)
        if not document_lasts or document_lasts[-1] != count - 1:
            document_lasts.append(count - 1)  # the batch's last sentences, of a document that goes on
        examples = []
        first = 0  # the first sentence not yet added
        for last in document_lasts:  # the last sentence of a document (or of the batch)
            while first <= last:
                # The sentence whose tokens reach the target length, if it is in this document.
                threshold = splits[first] + self._target_length - self._length
                reaching = bisect.bisect_left(splits, threshold, first + 1, count + 1) - 1
                stop = min(reaching, last) + 1
                self._add_range(token_ids, splits[first], splits[stop], lengths[first:stop])
                first = stop
                if reaching <= last:
                    examples.append(self._create_example())
            if last in ends_document and self._length:
                examples.append(self._create_example())
        return examples

    def _add_range(self, token_ids: np.ndarray, start: int, stop: int, lengths: list[int]) -> None:
        if stop > start:
            self._chunks.append(token_ids[start:stop])
            self._lengths.extend(length for length in lengths if length)
            self._length += stop - start

    def _create_example(self) -> Example:
        rng = self._rng
        if rng.random() < SINGLE_SEGMENT_PROBABILITY:
            first_target = 100000  # the official constant: "everything goes to A"
        else:
            first_target = (self._target_length - 3) // 2  # -3 for [CLS] and two [SEP]s
        is_short_target = self._target_length < self._seq_length

        in_first: list[bool] = []
        first_length = 0
        second_length = 0
        for length in self._lengths:
            # Same condition, same short-circuit order (so the same random draws) as the official code.
            if (
                first_length == 0
                or first_length + length < first_target
                or (second_length == 0 and first_length < first_target and rng.random() < 0.5)
            ):
                in_first.append(True)
                first_length += length
            else:
                in_first.append(False)
                second_length += length

        tokens = self._chunks[0] if len(self._chunks) == 1 else np.concatenate(self._chunks)  # [pending tokens]
        if second_length == 0:
            first_tokens, second_tokens = tokens, _EMPTY
        elif in_first.index(False) == in_first.count(True):  # A's sentences all come before B's
            first_tokens, second_tokens = tokens[:first_length], tokens[first_length:]
        else:
            is_first = np.repeat(np.array(in_first), self._lengths)  # [pending tokens]
            first_tokens, second_tokens = tokens[is_first], tokens[~is_first]
        first_segment = first_tokens[: self._seq_length - 2]
        second_segment = _EMPTY
        if second_length:
            kept_second = max(0, self._seq_length - len(first_segment) - 3)
            second_segment = second_tokens[:kept_second]
        kept = len(first_segment) + len(second_segment)
        self.stats.tokens_truncated += first_length + second_length - kept
        self.stats.tokens_in_examples += kept
        self.stats.examples += 1
        self.stats.single_segment_examples += len(second_segment) == 0
        self.stats.short_target_examples += is_short_target

        self._chunks = []
        self._lengths = []
        self._length = 0
        if rng.random() < SHORT_TARGET_PROBABILITY:
            self._target_length = rng.randint(MIN_SHORT_TARGET, self._seq_length)
        else:
            self._target_length = self._seq_length
        return Example(first_segment, second_segment)


def stack_examples(examples: list[Example], seq_length: int, cls_id: int, sep_id: int) -> dict[str, np.ndarray]:
    """Lays examples out as `[CLS] A [SEP] B [SEP]` + padding: the three features written to TFRecords.

    Args:
        examples: list of Example. Segments already cut to fit `seq_length`.
        seq_length: int. Tokens per row.
        cls_id: int. Id of [CLS].
        sep_id: int. Id of [SEP].

    Returns:
        dict with `input_ids` (0 = padding), `input_mask` (1 = real token) and `segment_ids` (0 for
        `[CLS] A [SEP]`, 1 for `B [SEP]`, 0 for padding): np.ndarray int64 [num_examples, seq_length].

    Example:
    >>> example = Example(np.array([7], np.int32), np.array([8], np.int32))
    >>> {name: values.tolist() for name, values in stack_examples([example], 6, 101, 102).items()}
    {'input_ids': [[101, 7, 102, 8, 102, 0]], 'input_mask': [[1, 1, 1, 1, 1, 0]], 'segment_ids': [[0, 0, 0, 1, 1, 0]]}
    """
    cls = np.array([cls_id], np.int32)
    sep = np.array([sep_id], np.int32)
    pieces = []
    for first, second in examples:
        if len(second):
            pieces += (cls, first, sep, second, sep)
        else:
            pieces += (cls, first, sep)
    tokens = np.concatenate(pieces)  # [real tokens of all examples]
    first_length = np.array([len(first) for first, _ in examples], np.int64)[:, None]  # [n, 1]
    second_length = np.array([len(second) for _, second in examples], np.int64)[:, None]  # [n, 1]
    real_length = first_length + 2 + np.where(second_length > 0, second_length + 1, 0)  # [n, 1]
    positions = np.arange(seq_length, dtype=np.int64)[None, :]  # [1, seq]
    is_real = positions < real_length  # [n, seq]
    input_ids = np.zeros(is_real.shape, np.int64)  # [n, seq]
    input_ids[is_real] = tokens  # row-major order = example by example
    segment_ids = (positions >= first_length + 2) & is_real  # [n, seq]
    return {
        "input_ids": input_ids,
        "input_mask": is_real.astype(np.int64),
        "segment_ids": segment_ids.astype(np.int64),
    }
