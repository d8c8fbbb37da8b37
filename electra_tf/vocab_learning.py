"""Learning a WordPiece vocabulary from a corpus, for the `Tokenizer` of `electra_tf.tokenization`.

Words are counted after the Tokenizer's own normalisation and splitting (so the vocabulary fits the text the
Tokenizer will see), then the vocabulary is learned with tensorflow-text's WordPiece learner
(`tensorflow_text.tools.wordpiece_vocab.wordpiece_tokenizer_learner_lib.learn`, the algorithm behind
`bert_vocab_from_dataset`).

Layout of the result:

- ids 0-4: `[PAD] [UNK] [CLS] [SEP] [MASK]`, always, whatever the corpus;
- then the "isolated characters": CJK ideographs and punctuation, which the Tokenizer always splits into
  one-character words. They are entered as themselves, most frequent first, and never as `##` suffixes
  (the learner would add a `##` twin for each, which the Tokenizer can never produce);
- then the learner's vocabulary for all other words: its alphabet (each character and its `##` twin), then
  word pieces by frequency.

The isolated characters get at least the share of the budget that their occurrences have among all words
(capped by how many distinct ones there are), the learner the rest; slots the learner leaves unused
(its search stops within 5% under the target) go to further isolated characters. So an English corpus gets
its few dozen punctuation marks and a WordPiece vocabulary, and a Chinese corpus gets its most frequent
characters plus pieces for the Latin words and numbers it contains.

Example:
>>> tokens = learn_vocabulary(["The cat sat.", "The dog sat."] * 50, vocab_size=64)
>>> tokens[:5]
['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
>>> "." in tokens and "the" in tokens
True
"""

from __future__ import annotations

import collections
import os
import pathlib
import sys
import time
from typing import Callable, Iterable, Iterator

import tensorflow as tf
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as wordpiece_learner

from electra_tf.errors import InputError
from electra_tf.tokenization import (
    _CJK_IDEOGRAPHS,
    _PUNCTUATION,
    MAX_CHARS_PER_WORD,
    RESERVED_TOKENS,
    SUFFIX_INDICATOR,
    normalize,
    split_words,
)

DEFAULT_MAX_UNIQUE_CHARS = 1000  # the learner's alphabet limit for words (each character costs 2 entries)
COUNT_BATCH_SIZE = 2048  # lines normalised and split per TensorFlow call


def count_words(
    texts: Iterable[str] | tf.data.Dataset,
    lowercase: bool = True,
    batch_size: int = COUNT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> collections.Counter:
    """Counts the words the Tokenizer would hand to WordPiece (normalised, split on spaces and punctuation).

    Args:
        texts: iterable of str, or a `tf.data.Dataset` of strings (scalars or [batch]).
        lowercase: bool. Same meaning as the Tokenizer's `lowercase`.
        batch_size: int. Lines per TensorFlow call.
        on_batch: optional callable, called with the number of lines after each batch (progress display).

    Returns:
        collections.Counter. word (str) -> occurrences. Words longer than 100 characters (which the
        Tokenizer turns into [UNK]) are not counted.

    Example:
    >>> count_words(["Héllo, héllo!"])
    Counter({'hello': 2, ',': 1, '!': 1})
    """

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def unique_words(lines):
        words = split_words(normalize(lines, lowercase)).flat_values  # [words]
        words = tf.boolean_mask(words, tf.strings.length(words, unit="UTF8_CHAR") <= MAX_CHARS_PER_WORD)
        unique, _, counts = tf.unique_with_counts(words)
        return unique, counts

    counts: collections.Counter = collections.Counter()
    for batch in _batches(texts, batch_size):
        unique, occurrences = unique_words(batch)
        counts.update(dict(zip(unique.numpy().tolist(), occurrences.numpy().tolist())))
        if on_batch is not None:
            on_batch(int(batch.shape[0]))
    return collections.Counter({word.decode("utf-8"): count for word, count in counts.items()})


def vocabulary_from_word_counts(
    word_counts: dict[str, int],
    vocab_size: int,
    max_unique_chars: int = DEFAULT_MAX_UNIQUE_CHARS,
    learn_params: dict | None = None,
) -> list[str]:
    """Builds the vocabulary (layout in the module docstring) from counted words.

    Args:
        word_counts: dict. word -> occurrences, as `count_words` returns.
        vocab_size: int. The most entries the vocabulary may have, reserved tokens included.
        max_unique_chars: int. Alphabet limit for non-isolated words; words with rarer characters are left
            out of learning (their characters become [UNK]).
        learn_params: optional dict of further keyword arguments for tensorflow-text's `learn`
            (`num_iterations`, `lower_thresh`, `slack_ratio`, ...).

    Returns:
        list of str. The tokens, index = id; at most `vocab_size` of them.

    Raises:
        InputError: `vocab_size` leaves no room besides the reserved tokens, or there are no words.
    """
    if not isinstance(vocab_size, int) or vocab_size <= len(RESERVED_TOKENS):
        raise InputError(
            f"Expected vocab_size to be an integer above {len(RESERVED_TOKENS)} (the reserved tokens "
            f"{' '.join(RESERVED_TOKENS)} come first). Received: vocab_size={vocab_size!r}"
        )
    word_counts = {word: count for word, count in word_counts.items() if word and word not in RESERVED_TOKENS}
    if not word_counts:
        raise InputError("The corpus holds no words to learn a vocabulary from. Expected non-empty text.")
    budget = vocab_size - len(RESERVED_TOKENS)

    isolated, words = _split_isolated(word_counts)
    isolated_by_count = sorted(isolated, key=lambda char: (-isolated[char], char))
    share = sum(isolated.values()) / sum(word_counts.values())
    word_budget = budget - min(len(isolated), round(budget * share))

    learned: list[str] = []
    if words and word_budget > 0:
        params = {
            "max_unique_chars": max(1, min(max_unique_chars, word_budget // 3)),
            **(learn_params or {}),
            "include_joiner_token": True,
            "joiner": SUFFIX_INDICATOR,
        }
        learned = wordpiece_learner.learn(list(words.items()), word_budget, reserved_tokens=[], **params)
        # The learner's alphabet comes first, so cutting from the end drops the rarest pieces.
        learned = learned[:word_budget]
    return list(RESERVED_TOKENS) + isolated_by_count[: budget - len(learned)] + learned


def learn_vocabulary(
    texts_or_files,
    vocab_size: int,
    lowercase: bool = True,
    *,
    strip_gutenberg: bool = False,
    max_unique_chars: int = DEFAULT_MAX_UNIQUE_CHARS,
    learn_params: dict | None = None,
    progress: bool = False,
) -> list[str]:
    """Learns a WordPiece vocabulary that the `Tokenizer` (same `lowercase`) can load.

    Args:
        texts_or_files: where the text comes from. A `str` or `os.PathLike` is one corpus path (file, folder
            or glob of `.txt`/`.gz`), a list of `pathlib.Path` several; these are read with
            `electra_tf.data.corpus.CorpusReader`. A `tf.data.Dataset` of strings, or any other iterable of
            str (a list of texts), is used as the text itself.
        vocab_size: int. The most entries the vocabulary may have, the 5 reserved tokens included.
        lowercase: bool. Learn for an uncased Tokenizer (lower-cased, accents stripped).
        strip_gutenberg: bool. Skip Project Gutenberg headers and footers when reading files.
        max_unique_chars: int. Alphabet limit of the WordPiece learner (see `vocabulary_from_word_counts`).
        learn_params: optional dict of further arguments for tensorflow-text's learner.
        progress: bool. Report lines read and words counted on stderr.

    Returns:
        list of str. The vocabulary, `[PAD] [UNK] [CLS] [SEP] [MASK]` at ids 0-4.

    Raises:
        InputError: a missing or unreadable corpus path, an empty corpus, or a bad `vocab_size`.

    Example:
    >>> tokens = learn_vocabulary(pathlib.Path("corpus/"), vocab_size=8000)  # doctest: +SKIP
    >>> write_vocabulary(tokens, "vocab.txt")  # doctest: +SKIP
    """
    texts = _texts_of(texts_or_files, strip_gutenberg)
    report = _ProgressReport() if progress else None
    counts = count_words(texts, lowercase=lowercase, on_batch=report.add if report else None)
    if report:
        report.done(counts)
    if not counts:
        raise InputError("The corpus holds no words to learn a vocabulary from. Expected non-empty text.")
    return vocabulary_from_word_counts(counts, vocab_size, max_unique_chars=max_unique_chars, learn_params=learn_params)


def write_vocabulary(tokens: list[str], path: str | os.PathLike) -> None:
    """Writes one token a line (UTF-8, "\\n"), the format `Tokenizer` and BERT read.

    Raises:
        InputError: a token that contains a line break or is empty (it could not be read back).
    """
    for index, token in enumerate(tokens):
        if not token or token != token.strip() or "\n" in token or "\r" in token:
            raise InputError(f"Token {index} ({token!r}) cannot be written to a vocab.txt: empty or whitespace.")
    path = pathlib.Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    path.write_text("".join(token + "\n" for token in tokens), encoding="utf-8")


def _split_isolated(word_counts: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(CJK ideographs and punctuation, other words): the Tokenizer's own character classes decide."""
    singles = [word for word in word_counts if len(word) == 1]
    isolated: dict[str, int] = {}
    if singles:
        pattern = f"{_CJK_IDEOGRAPHS}|{_PUNCTUATION}"
        matches = tf.strings.regex_full_match(tf.constant(singles), pattern).numpy()
        isolated = {char: word_counts[char] for char, match in zip(singles, matches) if match}
    words = {word: count for word, count in word_counts.items() if word not in isolated}
    return isolated, words


def _texts_of(texts_or_files, strip_gutenberg: bool):
    if isinstance(texts_or_files, (str, os.PathLike)):
        paths = [texts_or_files]
    elif isinstance(texts_or_files, (list, tuple)) and texts_or_files and all(
        isinstance(item, os.PathLike) for item in texts_or_files
    ):
        paths = list(texts_or_files)
    else:
        return texts_or_files
    from electra_tf.data.corpus import CorpusOptions, CorpusReader

    reader = CorpusReader(paths, CorpusOptions(strip_gutenberg=strip_gutenberg))
    return (sentence for block in reader.blocks() for sentence in block.sentences)


def _batches(texts, batch_size: int) -> Iterator[tf.Tensor]:
    if isinstance(texts, tf.data.Dataset):
        if texts.element_spec.dtype != tf.string:
            raise InputError(f"Expected a dataset of strings, received elements of {texts.element_spec}.")
        if texts.element_spec.shape.rank == 0:
            texts = texts.batch(batch_size)
        for batch in texts:
            yield tf.reshape(batch, [-1])
        return
    if isinstance(texts, str):
        texts = [texts]
    batch: list[str] = []
    for text in texts:
        if not isinstance(text, (str, bytes)):
            raise InputError(f"Expected texts as str, received an item of type {type(text).__name__}.")
        batch.append(text)
        if len(batch) == batch_size:
            yield tf.constant(batch, tf.string)
            batch = []
    if batch:
        yield tf.constant(batch, tf.string)


class _ProgressReport:
    """One line on stderr every 100,000 lines, then the word totals."""

    EVERY = 100_000

    def __init__(self):
        self.lines = 0
        self.start = time.monotonic()
        self._next = self.EVERY

    def add(self, lines: int) -> None:
        self.lines += lines
        if self.lines >= self._next:
            self._next += self.EVERY
            rate = self.lines / max(time.monotonic() - self.start, 1e-9)
            print(f"counted words in {self.lines:,} lines ({rate:,.0f} lines/s)", file=sys.stderr, flush=True)

    def done(self, counts: collections.Counter) -> None:
        seconds = time.monotonic() - self.start
        print(
            f"counted {sum(counts.values()):,} words ({len(counts):,} distinct) in {self.lines:,} lines, "
            f"{seconds:.1f}s; learning WordPiece...",
            file=sys.stderr,
            flush=True,
        )
