"""From WordPiece tokens back to words and readable text: `##` pieces joined to their word, Chinese without spaces.

The model sees `un ##able`, `今 天` and `hello , world`; people read `unable`, `今天` and `hello, world`.
`group_words` maps pieces to words (for per-word scores), `join_words` lays words out as text, and
`readable_text` does the same in TensorFlow ops (core regex ops only, so exported signatures can return text).

Rules of `join_words` (and of `readable_text`): words are separated by one space, except that no space is put
next to a CJK character (ideographs, CJK and full-width punctuation), before closing punctuation (`. , ! ? ; :
) ] }` and `'s`-style apostrophes are left alone), or after an opening bracket.

Example:
>>> group_words(["[CLS]", "un", "##able", "今", "天", "[SEP]"], skip_special=True)
[('unable', [1, 2]), ('今', [3]), ('天', [4])]
>>> join_words(["hello", ",", "world", "!", "今", "天", "好", "。"])
'hello, world!今天好。'
"""

from __future__ import annotations

SUFFIX_INDICATOR = "##"
SPECIAL_TOKENS = frozenset({"[PAD]", "[CLS]", "[SEP]"})
_CLOSING = frozenset(".,!?;:)]}%")
_OPENING = frozenset("([{")
# CJK ideographs (the blocks BERT treats as one-character words), CJK symbols and punctuation, full-width forms.
_CJK_RANGES = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF),
               (0x20000, 0x2FA1F))
_CJK_CLASS_RE2 = (
    r"\x{3000}-\x{303F}\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{FF00}-\x{FFEF}\x{20000}-\x{2FA1F}"
)


def is_cjk(character: str) -> bool:
    """Whether one character is a CJK ideograph or CJK / full-width punctuation."""
    code = ord(character)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def group_words(tokens: list[str], skip_special: bool = True) -> list[tuple[str, list[int]]]:
    """Groups WordPiece tokens into words.

    Args:
        tokens: list of str. Tokens of one sequence (`##` marks a continuation piece).
        skip_special: bool. Leave out `[PAD]`, `[CLS]` and `[SEP]`.

    Returns:
        list of (word, indices of its tokens in `tokens`).
    """
    words: list[tuple[str, list[int]]] = []
    for index, token in enumerate(tokens):
        if skip_special and (token in SPECIAL_TOKENS or token == ""):
            continue
        if token.startswith(SUFFIX_INDICATOR) and words and words[-1][1][-1] == index - 1:
            word, indices = words[-1]
            words[-1] = (word + token[len(SUFFIX_INDICATOR):], indices + [index])
        else:
            words.append((token, [index]))
    return words


def join_words(words: list[str]) -> str:
    """Lays out words as text (rules in the module docstring)."""
    text = ""
    for word in words:
        if not word:
            continue
        if text and not _attached(text[-1], word[0]):
            text += " "
        text += word
    return text


def tokens_to_text(tokens: list[str]) -> str:
    """`join_words` of `group_words`: readable text of one token sequence, special tokens dropped."""
    return join_words([word for word, _ in group_words(tokens)])


def _attached(previous: str, following: str) -> bool:
    return is_cjk(previous) or is_cjk(following) or following in _CLOSING or previous in _OPENING


def readable_text(tokens, keep):
    """`tokens_to_text` in TensorFlow ops, per row.

    Args:
        tokens: tf.Tensor. string [batch, seq], WordPiece tokens.
        keep: tf.Tensor. bool [batch, seq], tokens to include (real tokens that are not [CLS]/[SEP]).

    Returns:
        tf.Tensor. string [batch].
    """
    import tensorflow as tf

    kept = tf.ragged.boolean_mask(tokens, keep)  # [batch, (tokens)]
    text = tf.strings.reduce_join(kept, axis=-1, separator=" ")  # [batch]
    text = tf.strings.regex_replace(text, " " + SUFFIX_INDICATOR, "")
    cjk = f"[{_CJK_CLASS_RE2}]"
    text = tf.strings.regex_replace(text, f"({cjk}) ", r"\1")
    text = tf.strings.regex_replace(text, f" ({cjk})", r"\1")
    text = tf.strings.regex_replace(text, r" ([.,!?;:)\]}%])", r"\1")
    return tf.strings.regex_replace(text, r"([(\[{]) ", r"\1")
