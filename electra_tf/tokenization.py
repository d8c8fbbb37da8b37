"""`Tokenizer`: BERT's WordPiece tokenization as TensorFlow ops, for training input and exported signatures.

The text is normalised exactly as BERT's own tokenizer and Hugging Face's `BertTokenizerFast` do it, built
from core TensorFlow string ops and the TF Text ops that TF Serving bundles (UTF-8 normalisation, regex split,
fast WordPiece), so the same object tokenizes training text and runs inside an exported SavedModel with no
Python:

1. Clean: invalid UTF-8 becomes U+FFFD; NUL, U+FFFD and control/format/private/unassigned characters
   (Unicode category C, except tab, newline and carriage return) are dropped; whitespace becomes a space.
2. CJK ideographs are surrounded by spaces, so each is a word of its own.
3. With `lowercase=True`: NFD, drop non-spacing marks (Mn, i.e. accents), then lower-case each character.
   With `lowercase=False` the text keeps its case and accents.
4. Split on whitespace, and around every punctuation character (ASCII punctuation and Unicode P*).
5. WordPiece, greedy longest match first with `##` continuations; a word longer than 100 characters, or one
   that cannot be covered by the vocabulary, becomes a single `[UNK]`.

Most lines need no normalisation at all: a line of printable ASCII, common punctuation (`“ ” ‘ ’ — …`, CJK
and full-width punctuation), CJK ideographs and common spaces is only lower-cased (ASCII letters). Such
"plain" lines take a fast path, tensorflow-text's end-to-end WordPiece (`FastWordpieceTokenizer` with BERT's
pre-tokenization in C++, the same TF Text op), which splits them exactly as steps 1-4 do: every non-ASCII
character of a plain line is a word boundary (whitespace, punctuation or ideograph) whose class is the same in
both, so its words are ASCII and the op's 100-byte word limit is BERT's 100-character limit. The other lines
(accents, other scripts, symbols, control characters, invalid UTF-8) take steps 1-5 as written. Both paths
give identical ids on plain lines (tested per character and on the shared corpora); the fast path is 4-5x
faster, and takes 99.9% of the shared English lines and 97% of the Chinese ones.

tensorflow-text's stock `BertTokenizer(lower_case=True)` differs in step 3: it case-folds with NFKD
compatibility decomposition (`，` becomes `,`, `…` becomes `...`, `²` becomes `2`), which gives other ids than
the vocabularies were made for on most Chinese lines. This module does not use it.

Example:
>>> tokenizer = Tokenizer("vocab.txt")  # doctest: +SKIP
>>> tokenizer(["Héllo, wörld!"]).to_list()  # doctest: +SKIP
[[7592, 1010, 2088, 999]]
>>> tokenizer.detokenize([[7592, 1010, 2088, 999]]).numpy()  # doctest: +SKIP
array([b'hello , world !'], dtype=object)
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.python.ops.regex_split_ops import gen_regex_split_ops as _regex_split_ops

from electra_tf.errors import InputError
from electra_tf.input_packing import pack_inputs

RESERVED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
SUFFIX_INDICATOR = "##"
MAX_CHARS_PER_WORD = 100  # BERT's `max_input_chars_per_word`: longer words become [UNK]

# Character classes of BERT's normaliser, as RE2 patterns. Where RE2 and Python disagree the comment says why.
# Dropped: categories Cc (but tab, newline, carriage return), Cf, Co, Cs, and U+FFFD. Unassigned code points
# (Cn) are kept, as BertTokenizerFast keeps them.
_DROPPED_CHARS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\p{Cf}\p{Co}\p{Cs}\x{FFFD}]"
# Rust's `char::is_whitespace` (what BertTokenizerFast uses) minus the Cc characters dropped above.
_WHITESPACE = r"[\t\n\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
# BERT's `_is_chinese_char`: the CJK Unified Ideographs blocks, not all of CJK (kana and hangul are letters).
# BertTokenizerFast starts the fifth range at U+2B920 where BERT's Python code has U+2B820; we follow the
# former, the reference of our parity tests (the 256 code points between are rare Extension-E ideographs).
_CJK_IDEOGRAPHS = (
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}"
    r"\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)
# BERT's `_is_punctuation`: all ASCII non-alphanumeric printable characters (so `$`, `+`, `^` too) and P*.
_PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"
# A "plain" line (see the module docstring): characters that BERT's normalisation leaves unchanged (but for the
# case of ASCII letters) and that are word boundaries of the same kind for BERT and for tensorflow-text's
# end-to-end WordPiece. Printable ASCII with tab, newline and carriage return; no-break and ideographic space;
# general punctuation U+2010-U+2027 (dashes, quotes, bullets, ellipsis); CJK punctuation (、。〃 brackets 〔〕 …);
# full-width punctuation (not the full-width letters, digits and math symbols); CJK ideographs of the
# ranges both tokenizers agree on (not U+2B820-U+2B91F, and not the compatibility ideographs, which NFD maps to
# others). `test_every_plain_character_takes_the_fast_path_with_hf_ids` checks each against Hugging Face.
_PLAIN_LINE = (
    r"[\t\n\r\x20-\x7E\x{A0}\x{3000}\x{2010}-\x{2027}\x{3001}-\x{3003}\x{3008}-\x{3011}\x{3014}-\x{301F}"
    r"\x{FF01}-\x{FF03}\x{FF05}-\x{FF0A}\x{FF0C}-\x{FF0F}\x{FF1A}\x{FF1B}\x{FF1F}\x{FF20}\x{FF3B}-\x{FF3D}"
    r"\x{FF3F}\x{FF5B}\x{FF5D}\x{FF5F}-\x{FF65}"
    r"\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B81F}\x{2B920}-\x{2CEAF}]*"
)


def normalize(texts: tf.Tensor, lowercase: bool = True) -> tf.Tensor:
    """Applies BERT's text normalisation (steps 1-3 of the module docstring) to UTF-8 strings.

    Args:
        texts: tf.Tensor. string, any shape; invalid UTF-8 is replaced, then dropped.
        lowercase: bool. Lower-case and strip accents (the "uncased" models).

    Returns:
        A string tensor of the same shape, CJK ideographs padded with spaces.

    Example:
    >>> normalize(tf.constant(["Crème\\u00a0Brûlée 中文"])).numpy()[0].decode()
    'creme brulee  中  文 '
    """
    texts = tf.strings.unicode_transcode(
        texts, input_encoding="UTF-8", output_encoding="UTF-8", errors="replace", replacement_char=0xFFFD
    )
    texts = tf.strings.regex_replace(texts, _DROPPED_CHARS, "")
    texts = tf.strings.regex_replace(texts, _WHITESPACE, " ")
    texts = tf.strings.regex_replace(texts, _CJK_IDEOGRAPHS, r" \0 ")
    if lowercase:
        texts = tf_text.normalize_utf8(texts, "NFD")
        texts = tf.strings.regex_replace(texts, r"\p{Mn}", "")
        # ICU's lower-casing turns a word-final capital sigma into final sigma; BERT maps every Σ to σ.
        texts = tf.strings.regex_replace(texts, "\u03a3", "\u03c3")
        texts = tf.strings.lower(texts, encoding="utf-8")
    return texts


def split_words(normalized: tf.Tensor) -> tf.RaggedTensor:
    """Splits normalised text on whitespace and around punctuation (step 4 of the module docstring).

    Args:
        normalized: tf.Tensor. string [batch], the output of `normalize`.

    Returns:
        tf.RaggedTensor. string [batch, (words)]; punctuation characters are words of their own.

    Example:
    >>> split_words(tf.constant(["don't stop"])).to_list()
    [[b'don', b"'", b't', b'stop']]
    """
    # The op itself (what `tf_text.regex_split` runs) without that wrapper's validation of the row splits the
    # op has just computed, ~200 graph ops that triple the tracing and first-call time of `Tokenizer`.
    words, _, _, row_splits = _regex_split_ops.regex_split_with_offsets(
        tf.reshape(normalized, [-1]),
        delim_regex_pattern=f"({_WHITESPACE}+|{_PUNCTUATION})",
        keep_delim_regex_pattern=f"({_PUNCTUATION})",
    )
    return tf.RaggedTensor.from_row_splits(words, row_splits, validate=False)  # [batch, (words)]


def read_vocabulary(vocab_file: str | os.PathLike) -> tuple[list[str], str]:
    """Reads a one-token-a-line WordPiece vocabulary and checks it.

    Args:
        vocab_file: str. Path of a `vocab.txt`, UTF-8, token i on line i (0-based).

    Returns:
        (tokens, sha256 hex digest of the file's bytes).

    Raises:
        InputError: the file is missing, empty, not UTF-8 text, or lacks a reserved token.

    Example:
    >>> tokens, digest = read_vocabulary("vocab.txt")  # doctest: +SKIP
    """
    path = os.fspath(vocab_file)
    if not os.path.isfile(path):
        raise InputError(f"No such vocabulary file: {path!r}. Expected a vocab.txt with one token a line.")
    with open(path, "rb") as file:
        content = file.read()
    if not content.strip():
        raise InputError(f"Vocabulary file {path!r} is empty. Expected one WordPiece token a line.")
    if b"\x00" in content:
        raise InputError(f"Vocabulary file {path!r} is binary (it contains NUL bytes). Expected UTF-8 text.")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"Vocabulary file {path!r} is not UTF-8 text (invalid byte at offset {error.start})."
        ) from None
    # As BERT and Hugging Face read it: one token a line, trailing whitespace (and "\r") removed.
    tokens = [line.rstrip() for line in text.split("\n")]
    if tokens and tokens[-1] == "":
        tokens.pop()
    missing = [token for token in RESERVED_TOKENS if token not in tokens]
    if missing:
        raise InputError(
            f"Vocabulary file {path!r} lacks the reserved token(s) {' '.join(missing)}. "
            f"Expected all of {' '.join(RESERVED_TOKENS)}; `electra-tf vocab` writes them at ids 0-4."
        )
    return tokens, hashlib.sha256(content).hexdigest()


@dataclasses.dataclass(frozen=True)
class _VocabularyTable:
    """The tokens and their ids in one plain object: `tf.Module` would wrap a list or dict attribute entry by
    entry for checkpoint tracking, which takes longer than building the WordPiece models."""

    tokens: tuple[str, ...]
    token_to_id: dict[str, int]


class Tokenizer(tf.Module):
    """BERT WordPiece tokenizer in TensorFlow ops; matches Hugging Face's `BertTokenizerFast`.

    Usable eagerly, inside `tf.function`, in `tf.data` maps and in exported SavedModel signatures (TF Serving
    2.12+ runs the graph: only core ops and TF Text's normalize, regex-split and fast WordPiece ops).

    Args:
        vocab_file: str. A standard BERT `vocab.txt` containing `[PAD] [UNK] [CLS] [SEP] [MASK]`.
        lowercase: bool. Lower-case and strip accents ("uncased" vocabularies). Use False for cased ones.

    Example:
    >>> tokenizer = Tokenizer("bert-base-uncased-vocab.txt")  # doctest: +SKIP
    >>> tokenizer(["The café's menu."]).to_list()  # doctest: +SKIP
    [[1996, 7668, 1005, 1055, 12183, 1012]]
    >>> tokenizer.id_to_token([[7668, 2015]]).numpy().tolist()  # doctest: +SKIP
    [[b'cafe', b'##s']]
    """

    def __init__(self, vocab_file: str | os.PathLike, lowercase: bool = True, name: str | None = None):
        super().__init__(name=name)
        self._vocab_file = os.fspath(vocab_file)
        self._lowercase = bool(lowercase)
        vocab, self._vocab_hash = read_vocabulary(self._vocab_file)
        # Duplicate lines keep the id of their last occurrence, as Hugging Face's dict-based reader does.
        self._table = _VocabularyTable(tuple(vocab), {token: index for index, token in enumerate(vocab)})
        # Bytes, not characters; the 100-character rule is applied before (UTF-8 uses <= 4 bytes a char).
        self._wordpiece = _fast_wordpiece(vocab, 4 * MAX_CHARS_PER_WORD, no_pretokenization=True)
        # The fast path for plain lines: BERT's pre-tokenization and WordPiece in one op. Its word limit is in
        # bytes, which on plain lines (ASCII words) is the 100-character rule.
        self._plain_text_wordpiece = _fast_wordpiece(vocab, MAX_CHARS_PER_WORD, no_pretokenization=False)
        self._id_to_token_table = tf.constant(vocab, dtype=tf.string)  # [vocab_size]

    # --- Vocabulary ---

    @property
    def vocab_file(self) -> str:
        return self._vocab_file

    @property
    def lowercase(self) -> bool:
        return self._lowercase

    @property
    def vocab(self) -> list[str]:
        """The tokens, index = id."""
        return list(self._table.tokens)

    @property
    def vocab_size(self) -> int:
        return len(self._table.tokens)

    @property
    def vocab_hash(self) -> str:
        """sha256 of the vocabulary file's bytes; manifests record it to catch a mismatched vocabulary."""
        return self._vocab_hash

    @property
    def pad_id(self) -> int:
        return self._table.token_to_id["[PAD]"]

    @property
    def unk_id(self) -> int:
        return self._table.token_to_id["[UNK]"]

    @property
    def cls_id(self) -> int:
        return self._table.token_to_id["[CLS]"]

    @property
    def sep_id(self) -> int:
        return self._table.token_to_id["[SEP]"]

    @property
    def mask_id(self) -> int:
        return self._table.token_to_id["[MASK]"]

    def token_to_id(self, token: str) -> int:
        """The id of one token; InputError if it is not in the vocabulary."""
        if token not in self._table.token_to_id:
            raise InputError(f"Token {token!r} is not in the vocabulary {self._vocab_file!r}.")
        return self._table.token_to_id[token]

    # --- Text to ids ---

    def __call__(self, texts) -> tf.RaggedTensor:
        """Same as `tokenize`."""
        return self.tokenize(texts)

    def tokenize(self, texts) -> tf.RaggedTensor:
        """Turns texts into WordPiece ids, without [CLS]/[SEP].

        Args:
            texts: str, list of str, or tf.Tensor string [batch] (a scalar string is treated as a batch of 1).

        Returns:
            tf.RaggedTensor. int32 [batch, (tokens)].
        """
        texts = _as_string_batch(texts)  # [batch]
        is_plain = self.is_plain(texts)  # [batch]
        # Every line goes through the fast path (cheaper than gathering the plain ones); the few others are
        # gathered and tokenized in full, then each row is taken from the path it belongs to.
        plain_ids = self.tokenize_plain(texts)  # [batch, (tokens)]
        other_rows = tf.where(~is_plain)[:, 0]  # [others]
        other_ids = self.tokenize_general(tf.gather(texts, other_rows))  # [others, (tokens)]
        batch_size = tf.shape(texts, out_type=tf.int64)[0]
        other_index = batch_size + tf.cumsum(tf.cast(~is_plain, tf.int64), exclusive=True)  # [batch]
        row_source = tf.where(is_plain, tf.range(batch_size), other_index)  # [batch]
        return tf.gather(tf.concat([plain_ids, other_ids], axis=0), row_source)  # [batch, (tokens)]

    def tokenize_general(self, texts) -> tf.RaggedTensor:
        """Tokenizes any text with the five steps of the module docstring (what `tokenize` does to non-plain lines).

        Args:
            texts: str, list of str, or tf.Tensor string [batch].

        Returns:
            tf.RaggedTensor. int32 [batch, (tokens)].

        Example:
        >>> tokenizer.tokenize_general(["Crème brûlée"]).to_list()  # doctest: +SKIP
        [[13675, 21382, 7987, 9307, 2063]]
        """
        words = self.split(texts)  # [batch, (words)]
        word_ids = self._wordpiece.tokenize(words)  # [batch, (words), (pieces)]
        # merge_dims(1, 2) without its checks: a line's tokens are the pieces of its words.
        line_splits = tf.gather(word_ids.values.row_splits, word_ids.row_splits)  # [batch + 1]
        return tf.RaggedTensor.from_row_splits(word_ids.flat_values, line_splits, validate=False)

    def tokenize_plain(self, texts) -> tf.RaggedTensor:
        """The fast path of `tokenize`: BERT's ids for plain lines (module docstring); other lines may differ.

        Args:
            texts: str, list of str, or tf.Tensor string [batch], each matching `is_plain`.

        Returns:
            tf.RaggedTensor. int32 [batch, (tokens)].

        Example:
        >>> tokenizer.tokenize_plain(["Hello, world!"]).to_list()  # doctest: +SKIP
        [[7592, 1010, 2088, 999]]
        """
        texts = _as_string_batch(texts)  # [batch]
        if self._lowercase:
            texts = tf.strings.lower(texts)  # ASCII letters only: the other plain characters have no case
        return self._plain_text_wordpiece.tokenize(texts)  # [batch, (tokens)]

    @staticmethod
    def is_plain(texts) -> tf.Tensor:
        """Whether each text is a plain line, which `tokenize` sends through its fast path.

        Args:
            texts: str, list of str, or tf.Tensor string [batch].

        Returns:
            tf.Tensor. bool [batch].

        Example:
        >>> Tokenizer.is_plain(["Hello, “world”!", "Crème brûlée", "中文，标点。"]).numpy().tolist()
        [True, False, True]
        """
        return tf.strings.regex_full_match(_as_string_batch(texts), _PLAIN_LINE)

    def split(self, texts) -> tf.RaggedTensor:
        """Normalises and splits texts into words, the input of WordPiece.

        Words longer than 100 characters are replaced by "[UNK]", which WordPiece maps to the [UNK] id.

        Args:
            texts: str, list of str, or tf.Tensor string [batch].

        Returns:
            tf.RaggedTensor. string [batch, (words)].
        """
        texts = _as_string_batch(texts)  # [batch]
        words = split_words(normalize(texts, self._lowercase))  # [batch, (words)]
        too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        return words.with_flat_values(tf.where(too_long, "[UNK]", words.flat_values))

    # --- Ids to text ---

    def id_to_token(self, ids) -> tf.RaggedTensor | tf.Tensor:
        """Maps ids to token strings, keeping the shape (ragged in, ragged out).

        Args:
            ids: int tf.Tensor / tf.RaggedTensor / nested lists, any shape.

        Returns:
            string tensor of the same shape.
        """
        ids = _as_id_tensor(ids)
        if isinstance(ids, tf.RaggedTensor):
            return ids.with_flat_values(tf.gather(self._id_to_token_table, ids.flat_values))
        return tf.gather(self._id_to_token_table, ids)

    def detokenize(self, ids) -> tf.Tensor:
        """Turns ids back into readable text: `##` pieces joined to their word, [PAD]/[CLS]/[SEP] dropped.

        The result is normalised text (lower-cased for uncased vocabularies) with punctuation spaced out, as
        the model saw it; [UNK] and [MASK] stay visible.

        Args:
            ids: int tf.Tensor [batch, seq] / tf.RaggedTensor [batch, (tokens)] / nested lists.

        Returns:
            tf.Tensor. string [batch].
        """
        ids = _as_id_tensor(ids)
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        ids = tf.cast(ids, tf.int32)
        keep = (ids != self.pad_id) & (ids != self.cls_id) & (ids != self.sep_id)
        tokens = self.id_to_token(tf.ragged.boolean_mask(ids, keep))  # [batch, (tokens)]
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")  # [batch]
        return tf.strings.regex_replace(text, " " + SUFFIX_INDICATOR, "")

    # --- Model inputs ---

    def pack(self, segments_a, segments_b=None, seq_length: int = 128) -> dict[str, tf.Tensor]:
        """Builds TF Hub BERT inputs `[CLS] A [SEP] (B [SEP])`; see `electra_tf.input_packing.pack_inputs`.

        Args:
            segments_a: tf.RaggedTensor. int [batch, (tokens)], e.g. `tokenizer(texts)`.
            segments_b: optional second segments, same batch size.
            seq_length: int. Length of every output row.

        Returns:
            dict of int32 [batch, seq_length]: `input_word_ids`, `input_mask`, `input_type_ids`.
        """
        return pack_inputs(
            segments_a,
            segments_b,
            seq_length=seq_length,
            cls_id=self.cls_id,
            sep_id=self.sep_id,
            pad_id=self.pad_id,
        )

    def __repr__(self) -> str:
        return f"Tokenizer({self._vocab_file!r}, lowercase={self._lowercase}, vocab_size={self.vocab_size})"


def _fast_wordpiece(vocab: list[str], max_bytes_per_word: int, no_pretokenization: bool):
    """A `tf_text.FastWordpieceTokenizer` with BERT's `##` and `[UNK]`, giving int32 ids.

    The model is built here and handed over as a uint8 tensor: tensorflow-text would convert its 1-5 MB
    through a Python list of ints, which takes longer than building it.
    """
    model = tf_text.build_fast_wordpiece_model(
        vocab, max_bytes_per_word, SUFFIX_INDICATOR, "[UNK]", no_pretokenization, False
    )
    return tf_text.FastWordpieceTokenizer(
        token_out_type=tf.int32, model_buffer=tf.constant(np.frombuffer(model, np.uint8))
    )


def _as_string_batch(texts) -> tf.Tensor:
    if isinstance(texts, str):
        texts = [texts]
    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    if texts.shape.rank == 0:
        texts = tf.expand_dims(texts, 0)
    elif texts.shape.rank != 1:
        raise InputError(f"Expected texts of shape [batch], received a string tensor of shape {texts.shape}.")
    return texts


def _as_id_tensor(ids) -> tf.Tensor | tf.RaggedTensor:
    if isinstance(ids, (tf.Tensor, tf.RaggedTensor)):
        return ids
    if isinstance(ids, (list, tuple)) and ids and isinstance(ids[0], (list, tuple)):
        lengths = {len(row) for row in ids}
        if len(lengths) > 1:
            return tf.ragged.constant(ids, dtype=tf.int32)
    return tf.convert_to_tensor(ids, dtype=tf.int32)
