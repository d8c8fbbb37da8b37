"""Splitting paragraphs into sentences, and over-long text into pieces, with simple documented rules.

The example builder cuts segment A from segment B only at sentence boundaries, so paragraph text has to be
split into sentences first. The rule is deliberately simple (no model, no language data) and predictable:

- A sentence ends after `.`, `!`, `?` or `…` (any run of them), optionally followed by closing quotes or
  brackets, when whitespace follows and the next word starts with an upper-case letter or a digit
  (after any opening quotes or brackets).
- A single `.` after a known abbreviation (`Mr.`, `Dr.`, `e.g.`, `etc.`, … see `ABBREVIATIONS`) or after a
  single letter (an initial, `J. R. R.`) does not end a sentence.
- `。`, `．`, `！` and `？` (Chinese and Japanese full stops) end a sentence wherever they occur, with any closing
  quotes or brackets that follow them; no whitespace is needed.

Example:
>>> split_sentences("Mr. Darcy bowed. \\"Indeed?\\" she said. It was 3 p.m. Then rain.")
['Mr. Darcy bowed.', '"Indeed?" she said.', 'It was 3 p.m.', 'Then rain.']
>>> split_sentences("今天下雨。我们走吧！")
['今天下雨。', '我们走吧！']
"""

from __future__ import annotations

import re

# Lower-cased words that end with "." without ending the sentence (the "." itself not included).
ABBREVIATIONS = frozenset(
    "mr mrs ms messrs dr prof rev fr st sr jr gen col capt cpt lt sgt maj adm gov sen rep hon pres mt ft "
    "no nos vs etc e.g i.e cf viz al ca approx fig figs vol vols ch chap sec pp p ed eds esq inc ltd co "
    "corp dept univ jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Terminal punctuation, closing quotes/brackets, then the whitespace that separates two sentences.
_LATIN_END = re.compile(r"([.!?\u2026]+)([\"'\u201d\u2019)\]]*)(\s+)")
_CJK_END = re.compile(r"[\u3002\uff0e\uff01\uff1f]+[\"'\u201d\u2019\u300d\u300f\uff09)]*")
_OPENING = "\"'\u201c\u2018([\u300c\u300e"


def split_sentences(paragraph: str) -> list[str]:
    """Splits one paragraph into sentences with the rule in the module docstring.

    Args:
        paragraph: str. One paragraph of text (no newlines needed; they count as whitespace).

    Returns:
        list of str. The sentences, stripped, in order; empty when the paragraph is blank.

    Example:
    >>> split_sentences("It rained. We stayed in.")
    ['It rained.', 'We stayed in.']
    """
    cuts = [match.end() for match in _LATIN_END.finditer(paragraph) if _ends_sentence(paragraph, match)]
    cuts += [match.end() for match in _CJK_END.finditer(paragraph)]
    sentences = []
    start = 0
    for cut in sorted(set(cuts)):
        piece = paragraph[start:cut].strip()
        if piece:
            sentences.append(piece)
        start = cut
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _ends_sentence(text: str, match: re.Match) -> bool:
    next_index = match.end()
    while next_index < len(text) and text[next_index] in _OPENING:
        next_index += 1
    if next_index >= len(text):
        return False
    next_char = text[next_index]
    if not (next_char.isupper() or next_char.isdigit()):
        return False
    if match.group(1) != ".":
        return True
    word_start = match.start()
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in _OPENING:
        word_start -= 1
    word = text[word_start : match.start()].lower()
    is_initial = len(word) == 1 and word.isalpha()
    return not (is_initial or word in ABBREVIATIONS)


def split_long_text(text: str, max_chars: int) -> list[str]:
    """Cuts text longer than `max_chars` into pieces of at most `max_chars`, at whitespace where possible.

    Args:
        text: str. One line or sentence.
        max_chars: int. Largest piece; a stretch without whitespace that is longer is cut hard.

    Returns:
        list of str. `[text]` when it is short enough, else the stripped pieces in order.

    Example:
    >>> split_long_text("aaa bbb ccc", 7)
    ['aaa bbb', 'ccc']
    """
    pieces = []
    while len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        if cut <= 0:
            cut = max_chars
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return [piece for piece in pieces if piece]
