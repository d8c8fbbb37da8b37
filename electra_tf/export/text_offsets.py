"""Words of raw text with their character offsets, and their WordPiece ids, in graph (for `answer` and `tag`).

The `answer` and `tag` signatures must say where in the caller's text an answer or a tagged word is, but
BERT's normalisation (accent stripping, dropped control characters) changes the text before WordPiece sees
it. So the raw text is split first, at the same word boundaries the tokenizer uses (whitespace runs, every
punctuation character, every CJK ideograph: `electra_tf.tokenization`), with TF Text's regex-split op, which
reports each word's byte span; each word is then tokenized on its own by the model's `Tokenizer`. The pieces
of a word are exactly the pieces the tokenizer gives that word inside the whole text, because no boundary
depends on its neighbours. Characters the tokenizer deletes (controls, format characters such as U+200B) are
trimmed from a word's ends and a word of nothing else is dropped, as `electra_tf.finetuning.word_pieces` does, so
a span never starts or ends with one.

Offsets are in characters (Unicode code points, what Python's `str` indexes), of the text after invalid UTF-8
is replaced by U+FFFD (the same text for valid UTF-8): `text[word_starts[i]:word_ends[i]] == words[i]`.

Ops: core TensorFlow (`UnicodeTranscode`, `UnicodeDecodeWithOffsets`, `LowerBound`) and TF Text's
`RegexSplitWithOffsets`, all of which TF Serving 2.12+ runs.

Example:
>>> words = split_words_with_offsets(tf.constant(["Héllo, wörld!"]))  # doctest: +SKIP
>>> words.words.to_list(), words.starts.to_list(), words.ends.to_list()  # doctest: +SKIP
([[b'H\\xc3\\xa9llo', b',', b'w\\xc3\\xb6rld', b'!']], [[0, 5, 7, 12]], [[5, 6, 12, 13]])
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
from tensorflow_text.python.ops.regex_split_ops import gen_regex_split_ops as _regex_split_ops

from electra_tf import tokenization

# Word boundaries of the tokenizer (step 4 of `electra_tf.tokenization`), plus CJK ideographs, which its
# normaliser surrounds with spaces before splitting. Delimiters matched by the second pattern are kept as words.
_DELIMITERS = f"({tokenization._WHITESPACE}+|{tokenization._PUNCTUATION}|{tokenization._CJK_IDEOGRAPHS})"
_KEPT_DELIMITERS = f"({tokenization._PUNCTUATION}|{tokenization._CJK_IDEOGRAPHS})"


@dataclasses.dataclass(frozen=True)
class Words:
    """Words of a batch of texts.

    Attributes:
        texts: tf.Tensor. string [batch], the texts the offsets refer to (invalid UTF-8 replaced).
        words: tf.RaggedTensor. string [batch, (words)], as written in the text.
        starts: tf.RaggedTensor. int32 [batch, (words)], character offset of each word's first character.
        ends: tf.RaggedTensor. int32 [batch, (words)], character offset just past each word.
    """

    texts: tf.Tensor
    words: tf.RaggedTensor
    starts: tf.RaggedTensor
    ends: tf.RaggedTensor


def split_words_with_offsets(texts: tf.Tensor) -> Words:
    """Splits raw texts into the tokenizer's words, with character offsets.

    Args:
        texts: tf.Tensor. string [batch], raw UTF-8.

    Returns:
        Words.
    """
    texts = tf.strings.unicode_transcode(
        texts, input_encoding="UTF-8", output_encoding="UTF-8", errors="replace", replacement_char=0xFFFD
    )  # [batch]
    # The regex-split op stops at a NUL byte; U+0001 is deleted by the tokenizer as NUL is, and as long.
    words, byte_starts, byte_ends, row_splits = _regex_split_ops.regex_split_with_offsets(
        tf.strings.regex_replace(texts, r"\x00", "\x01"), delim_regex_pattern=_DELIMITERS,
        keep_delim_regex_pattern=_KEPT_DELIMITERS,
    )
    row_splits = tf.concat([tf.zeros([1], row_splits.dtype), row_splits[1:]], 0)  # [0] for an empty batch too
    words = tf.RaggedTensor.from_row_splits(words, row_splits, validate=False)  # [batch, (words)]
    # Byte offsets to character offsets: a word's character offset is the number of characters that start
    # before its byte offset.
    _, char_byte_starts = tf.strings.unicode_decode_with_offsets(texts, "UTF-8")  # [batch, (chars)] int64
    largest = tf.constant(tf.int64.max, tf.int64)
    char_byte_starts = char_byte_starts.to_tensor(default_value=largest)  # [batch, max chars]
    # One extra column so that rows without characters still search a non-empty row.
    char_byte_starts = tf.concat([char_byte_starts, tf.fill([tf.shape(texts)[0], 1], largest)], axis=1)

    def to_chars(byte_offsets):
        ragged = words.with_flat_values(byte_offsets)  # [batch, (words)]
        dense = ragged.to_tensor(default_value=0)  # [batch, max words]
        dense = tf.concat([dense, tf.zeros([tf.shape(dense)[0], 1], dense.dtype)], axis=1)  # never 0 columns
        chars = tf.searchsorted(char_byte_starts, dense, side="left", out_type=tf.int32)[:, :-1]
        return tf.RaggedTensor.from_tensor(chars, lengths=ragged.row_lengths())

    starts, ends = to_chars(byte_starts), to_chars(byte_ends)
    # Characters the tokenizer deletes (controls, format characters) are trimmed from a word's ends, so that no
    # span starts or ends with one; a word of nothing else is no word.
    trimmed_left = tf.strings.regex_replace(words.flat_values, f"^{tokenization._DROPPED_CHARS}+", "")
    trimmed = tf.strings.regex_replace(trimmed_left, f"{tokenization._DROPPED_CHARS}+$", "")
    length = lambda strings: tf.strings.length(strings, unit="UTF8_CHAR")  # noqa: E731
    starts = starts.with_flat_values(starts.flat_values + length(words.flat_values) - length(trimmed_left))
    ends = ends.with_flat_values(ends.flat_values - length(trimmed_left) + length(trimmed))
    keep = words.with_flat_values(length(trimmed) > 0)  # [batch, (words)]
    starts, ends = tf.ragged.boolean_mask(starts, keep), tf.ragged.boolean_mask(ends, keep)
    # The words as the text has them (the split op saw U+0001 for NUL).
    text_of_word = tf.repeat(texts, starts.row_lengths())  # [all words]
    words = starts.with_flat_values(tf.strings.substr(
        text_of_word, starts.flat_values, ends.flat_values - starts.flat_values, unit="UTF8_CHAR"))
    return Words(texts=texts, words=words, starts=starts, ends=ends)


def tokenize_words(tokenizer, words: tf.RaggedTensor) -> tf.RaggedTensor:
    """The WordPiece ids of each word: string [batch, (words)] -> int32 [batch, (words), (pieces)].

    Args:
        tokenizer: `electra_tf.Tokenizer`.
        words: tf.RaggedTensor. string [batch, (words)], e.g. `split_words_with_offsets(texts).words`.
    """
    pieces = tokenizer.tokenize(words.flat_values)  # [all words, (pieces)]
    return tf.RaggedTensor.from_row_splits(pieces, words.row_splits, validate=False)
