"""WordPiece ids for many texts at once, and words with their character spans in the original text.

Fine-tuning features need, besides ids, where each token came from: QA answers are slices of the original
context, tagging labels go to each word's first piece. `split_words_with_offsets` splits a text the way BERT's
basic tokenizer (and `electra_tf.Tokenizer`) splits it — on whitespace, with every punctuation character and
every CJK ideograph a word of its own — but keeps each word's (start, end) in the original string. Each word is
then WordPiece'd on its own (`tokenize_words`): BERT never lets a piece cross a word boundary, so the ids are the
ones `Tokenizer` gives the whole text, and each piece maps to its word's span, or to its own part of the word
when the pieces spell the word character for character (`piece_spans`).

Example:
>>> split_words_with_offsets("Hi, 北京!")
[('Hi', 0, 2), (',', 2, 3), ('北', 4, 5), ('京', 5, 6), ('!', 6, 7)]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

# The whitespace `electra_tf.tokenization` splits on (its _WHITESPACE), as a set of characters.
_WHITESPACE = frozenset(
    "\t\n\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(chr(c) for c in range(0x2000, 0x200B))
)
# BERT's `_is_chinese_char` ranges as `electra_tf.tokenization` has them.
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)
_TOKENIZE_BATCH = 8192  # texts per Tokenizer call: large enough to amortise the op overhead


def is_cjk_ideograph(char: str) -> bool:
    """Whether `char` is a CJK ideograph that BERT makes a word of its own."""
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def is_punctuation(char: str) -> bool:
    """BERT's `_is_punctuation`: every ASCII non-alphanumeric printable character, and Unicode P*."""
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_deleted(char: str) -> bool:
    """Whether the tokenizer deletes `char`: controls but tab/newline/CR, format, private-use, surrogates, U+FFFD.

    Example:
    >>> is_deleted("\\ufeff"), is_deleted("a"), is_deleted("\\t")
    (True, False, False)
    """
    if char in "\t\n\r":
        return False
    return char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def _append_word(words: list, text: str, start: int, end: int) -> None:
    """Adds text[start:end] as a word, without the deleted characters at its ends (they belong to no piece)."""
    while start < end and is_deleted(text[start]):
        start += 1
    while end > start and is_deleted(text[end - 1]):
        end -= 1
    if start < end:
        words.append((text[start:end], start, end))


def split_words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Splits `text` into BERT's words, each with its [start, end) character span in `text`.

    Whitespace separates words; punctuation characters and CJK ideographs are words of their own. Characters
    that the tokenizer deletes (controls, format characters such as a byte-order mark) stay inside their word, as
    they do for BERT (which deletes them before splitting, joining the two sides), but are trimmed from a word's
    ends, so that a span never starts or ends with one; a word of deleted characters only is no word.

    Args:
        text: str. Original text.

    Returns:
        list of (word, start, end) with `text[start:end] == word`.

    Example:
    >>> split_words_with_offsets("don't  stop")
    [('don', 0, 3), ("'", 3, 4), ('t', 4, 5), ('stop', 7, 11)]
    """
    words = []
    start = None
    for position, char in enumerate(text):
        if char in _WHITESPACE:
            if start is not None:
                _append_word(words, text, start, position)
                start = None
        elif is_punctuation(char) or is_cjk_ideograph(char):
            if start is not None:
                _append_word(words, text, start, position)
                start = None
            words.append((char, position, position + 1))
        elif start is None:
            start = position
    if start is not None:
        _append_word(words, text, start, len(text))
    return words


def tokenize_texts(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """WordPiece ids of each text (no [CLS]/[SEP]), in batches; repeated texts are tokenized once.

    Args:
        tokenizer: electra_tf.Tokenizer.
        texts: Sequence[str].

    Returns:
        list of id lists, one per text.

    Example:
    >>> tokenize_texts(tokenizer, ["hello world", "hello world"])  # doctest: +SKIP
    [[7592, 2088], [7592, 2088]]
    """
    unique = list(dict.fromkeys(texts))
    ids: dict[str, list[int]] = {}
    for begin in range(0, len(unique), _TOKENIZE_BATCH):
        batch = unique[begin : begin + _TOKENIZE_BATCH]
        for text, row in zip(batch, tokenizer.tokenize(batch).to_list()):
            ids[text] = row
    return [ids[text] for text in texts]


def piece_spans(pieces: Sequence[str], start: int, end: int, word: str) -> list[tuple[int, int]]:
    """Character spans of a word's pieces: each its own part when the pieces spell the word, else the word's.

    Pieces spell the word when, without their `##`, their lengths add up to the word's length and none is
    [UNK] (true for lower-cased or accented Latin words, digits, CJK; not for words with deleted characters).

    Example:
    >>> piece_spans(["play", "##ing"], 10, 17, "Playing")
    [(10, 14), (14, 17)]
    >>> piece_spans(["[UNK]"], 3, 5, "☃☃")
    [(3, 5)]
    """
    lengths = [len(piece[2:]) if index and piece.startswith("##") else len(piece) for index, piece in enumerate(pieces)]
    if "[UNK]" in pieces or sum(lengths) != end - start or len(word) != end - start:
        return [(start, end)] * len(pieces)
    spans, position = [], start
    for length in lengths:
        spans.append((position, position + length))
        position += length
    return spans


def tokenize_with_offsets(tokenizer, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """WordPiece ids of each text with every piece's character span in the original text.

    Args:
        tokenizer: electra_tf.Tokenizer.
        texts: Sequence[str]. Original texts (contexts); repeated texts are processed once.

    Returns:
        per text: (ids int32 [n], char_start int32 [n], char_end int32 [n]); `text[char_start[i]:char_end[i]]`
        is the original text of piece i (for a piece of a word that the pieces do not spell exactly: the word).

    Example:
    >>> ids, starts, ends = tokenize_with_offsets(tokenizer, ["The Playing field"])[0]  # doctest: +SKIP
    >>> starts.tolist(), ends.tolist()  # doctest: +SKIP
    ([0, 4, 8, 12], [3, 8, 11, 17])
    """
    unique = list(dict.fromkeys(texts))
    split = {text: split_words_with_offsets(text) for text in unique}
    all_words = [word for text in unique for word, _, _ in split[text]]
    word_ids = dict(zip(dict.fromkeys(all_words), tokenize_texts(tokenizer, list(dict.fromkeys(all_words)))))
    vocab = tokenizer.vocab
    results = {}
    for text in unique:
        ids, starts, ends = [], [], []
        for word, start, end in split[text]:
            pieces = word_ids[word]
            ids.extend(pieces)
            for span_start, span_end in piece_spans([vocab[i] for i in pieces], start, end, word):
                starts.append(span_start)
                ends.append(span_end)
        results[text] = (np.array(ids, np.int32), np.array(starts, np.int32), np.array(ends, np.int32))
    return [results[text] for text in texts]
