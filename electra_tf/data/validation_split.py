"""`plan_validation_split`: which sentences of a corpus `electra-tf prepare` holds out for evaluation.

The held-out text must share nothing with the training text, and an example never mixes the two, so the
split is made on the corpus's sentences *before* examples are built, and each side gets its own example
builder. Two modes, chosen from the number of documents `n` and the fraction `f`:

- `documents` (the usual case): whole documents are held out, `round(f x n)` of them, but at least
  `MIN_VALIDATION_DOCUMENTS` (3) when that is at most a tenth of the corpus (`n >= 30`). No document
  straddles the split.
- `spans` (a corpus of a few long documents, such as a handful of books, where 3 documents would be most of
  it): from each document, one contiguous run of `round(f x sentences)` sentences at a seeded position is held
  out as a document of its own; the training text before and after it become two documents, so no example
  joins the text around the gap, and no held-out sentence is also a training sentence.

The choice is a pure function of the corpus's document sizes, `f` and the seed (a `random.Random` keyed by
the seed), so the same command gives the same split. With `f = 0` nothing is held out. Corpora whose
documents are all shorter than `1 / f` sentences and fewer than `3 / f` give an empty split (the manifest
says so); raise the fraction for such small corpora.

Example:
>>> split = plan_validation_split(np.array([5] * 40), fraction=0.05, seed=0)
>>> split.mode, split.documents, split.sentences
('documents', 3, 15)
>>> route = split.router()
>>> is_held_out, ends = route(np.zeros([200], bool))  # 200 sentences of 40 documents; ends as read
>>> int(is_held_out.sum())
15
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from electra_tf.errors import InputError

DEFAULT_VALIDATION_FRACTION = 0.01
MAX_VALIDATION_FRACTION = 0.5
MIN_VALIDATION_DOCUMENTS = 3  # held out at least, when that is at most MIN_DOCUMENTS_MAX_SHARE of the documents
MIN_DOCUMENTS_MAX_SHARE = 0.1


def check_validation_fraction(fraction) -> float:
    """The fraction as a float in `[0, MAX_VALIDATION_FRACTION]`, or an InputError saying what was received."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not (
        0.0 <= float(fraction) <= MAX_VALIDATION_FRACTION
    ):
        raise InputError(
            f"Received an invalid value for validation_fraction, expected a number in [0, {MAX_VALIDATION_FRACTION}] "
            f"(0 holds nothing out). Received: validation_fraction={fraction!r}"
        )
    return float(fraction)


@dataclasses.dataclass(frozen=True)
class ValidationSplit:
    """Held-out sentence ranges of a corpus, in corpus order.

    Attributes:
        fraction: float. The requested share.
        seed: int. The seed the choice was drawn with.
        mode: str. "documents", "spans" or "none".
        starts: np.ndarray. int64 [ranges]; global index of each held-out range's first sentence, ascending.
        stops: np.ndarray. int64 [ranges]; one past each range's last sentence.
        documents: int. Held-out documents (whole documents or spans).
        total_documents: int. Documents in the corpus.
        total_sentences: int. Sentences in the corpus.
    """

    fraction: float
    seed: int
    mode: str
    starts: np.ndarray
    stops: np.ndarray
    documents: int
    total_documents: int
    total_sentences: int

    @property
    def sentences(self) -> int:
        return int(np.sum(self.stops - self.starts))

    def describe(self) -> dict:
        """The manifest's record of the split (without the builder counts)."""
        return {
            "fraction": self.fraction,
            "seed": self.seed,
            "mode": self.mode,
            "documents": self.documents,
            "sentences": self.sentences,
            "corpus_documents": self.total_documents,
            "corpus_sentences": self.total_sentences,
        }

    def is_held_out(self, indices: np.ndarray) -> np.ndarray:
        """bool [n]: whether each global sentence index is held out."""
        indices = np.asarray(indices, np.int64)
        if not len(self.starts):
            return np.zeros(indices.shape, bool)
        range_index = np.searchsorted(self.starts, indices, side="right") - 1  # [n]
        inside = range_index >= 0
        return inside & (indices < self.stops[np.maximum(range_index, 0)])

    def router(self):
        """A function `route(document_ends [n] bool) -> (held_out [n] bool, document_ends [n] bool)`.

        Called on consecutive batches of sentences in corpus order; the returned document ends add an end
        wherever the next sentence is on the other side of the split, so each side's example builder sees
        its own documents.
        """
        offset = 0

        def route(document_ends: np.ndarray):
            nonlocal offset
            count = len(document_ends)
            held_out = self.is_held_out(np.arange(offset, offset + count + 1))  # [n + 1]: one look-ahead
            ends = np.asarray(document_ends, bool) | (held_out[:-1] != held_out[1:])
            offset += count
            return held_out[:-1], ends

        return route


def plan_validation_split(document_sizes: np.ndarray, fraction: float, seed: int) -> ValidationSplit:
    """Chooses the held-out sentences (the rules of the module docstring).

    Args:
        document_sizes: np.ndarray. int [documents]; sentences of each document, in corpus order.
        fraction: float. Share of the corpus to hold out, in `[0, 0.5]`.
        seed: int. Seed of the choice.

    Returns:
        ValidationSplit.
    """
    fraction = check_validation_fraction(fraction)
    sizes = np.asarray(document_sizes, np.int64)  # [documents]
    ends = np.cumsum(sizes)  # [documents]
    begins = ends - sizes
    total = int(ends[-1]) if len(ends) else 0
    count = len(sizes)
    rng = random.Random(f"electra-tf validation split {int(seed)}")
    empty = np.zeros([0], np.int64)

    def result(mode, starts, stops, documents):
        return ValidationSplit(fraction, int(seed), mode, np.asarray(starts, np.int64), np.asarray(stops, np.int64),
                               documents, count, total)

    if fraction == 0.0 or count == 0:
        return result("none", empty, empty, 0)
    wanted = int(round(fraction * count))
    if wanted < MIN_VALIDATION_DOCUMENTS and count * MIN_DOCUMENTS_MAX_SHARE >= MIN_VALIDATION_DOCUMENTS:
        wanted = MIN_VALIDATION_DOCUMENTS
    if wanted >= MIN_VALIDATION_DOCUMENTS:
        chosen = sorted(rng.sample(range(count), min(wanted, count - 1)))
        return result("documents", begins[chosen], ends[chosen], len(chosen))
    starts, stops = [], []
    for begin, size in zip(begins.tolist(), sizes.tolist()):
        length = int(round(fraction * size))
        if 0 < length < size:
            start = begin + rng.randint(0, size - length)
            starts.append(start)
            stops.append(start + length)
    return result("spans" if starts else "none", starts, stops, len(starts))


def document_sizes(reader) -> np.ndarray:
    """Sentences per document of a corpus, in order: one reading pass of a fresh `CorpusReader`.

    Returns:
        np.ndarray. int64 [documents].
    """
    sizes = []
    open_size = 0
    for block in reader.blocks():
        previous = -1
        for last in block.document_ends:
            sizes.append(open_size + last - previous)
            open_size = 0
            previous = last
        open_size += len(block.sentences) - 1 - previous
    if open_size:
        sizes.append(open_size)
    return np.asarray(sizes, np.int64)
