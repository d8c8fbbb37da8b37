"""CMRC 2018's F1 and exact match (0-100), as its official cmrc2018_evaluate.py computes them.

- Segmentation (`mixed_segmentation`): lower-cased and stripped; each Chinese character (U+4E00-U+9FA5) and each
  character of the script's punctuation list is a segment of its own; runs of other characters are split into
  words by NLTK's word tokenizer (`treebank_words` here: NLTK's Treebank rules, without NLTK).
- F1: the script's punctuation is removed first; precision/recall from the longest common *contiguous* run of
  segments (`longest_common_substring`, the script's `find_lcs`); best over the gold answers; 0 when nothing
  is shared.
- EM: 1 when the texts are equal once lower-cased, stripped and without the punctuation list's characters.
- Totals: every gold question counts; one without a prediction scores 0 (reported as `skip`).

Example:
>>> cmrc2018({"q1": "北京大学"}, {"q1": ["北京大学。"]})
{'f1': 100.0, 'exact_match': 100.0, 'average': 100.0, 'total': 1, 'skip': 0}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from electra_tf.metrics.squad import gold_answers

# The official script's `sp_char` list. "……" is two characters, so as one list entry it never matches a
# single character: the script removes neither "…" nor "……" (we keep that).
PUNCTUATION = (
    "-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=",
    "，", "。", "：", "？", "！", "“", "”", "；", "’", "《", "》", "……", "·", "、",
    "「", "」", "（", "）", "－", "～", "『", "』",
)
_PUNCTUATION_CHARS = frozenset(entry for entry in PUNCTUATION if len(entry) == 1)
_CHINESE = re.compile("[\u4e00-\u9fa5]")

# NLTK's Treebank word tokenizer rules (nltk.tokenize.destructive.NLTKWordTokenizer), in order.
_STARTING_QUOTES = [
    (re.compile(r"^\""), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` "),
]
_PUNCTUATION_RULES = [
    (re.compile(r"([^\.])(\.)([\]\)}>\"\']*)\s*$"), r"\1 \2 \3 "),
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.{2,}"), r" \g<0> "),
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile(r"([^\.])(\.)([\]\)}>\"\']*)\s*$"), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[*]"), r" \g<0> "),
]
_PARENS = (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> ")
_DOUBLE_DASHES = (re.compile(r"--"), r" -- ")
_ENDING_QUOTES = [
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
_CONTRACTIONS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\b(can)(not)\b", r"\b(d)('ye)\b", r"\b(gim)(me)\b", r"\b(gon)(na)\b", r"\b(got)(ta)\b",
        r"\b(lem)(me)\b", r"\b(more)('n)\b", r"\b(wan)(na)(?=\s)", r"\b('t)(is)\b", r"\b('t)(was)\b",
    )
]


def treebank_words(text: str) -> list[str]:
    """Splits English text into words with NLTK's Treebank rules (what `nltk.word_tokenize` does per sentence).

    Example:
    >>> treebank_words("they'll pay $3.50, (maybe).")
    ['they', "'ll", 'pay', '$', '3.50', ',', '(', 'maybe', ')', '.']
    """
    for pattern, replacement in _STARTING_QUOTES + _PUNCTUATION_RULES + [_PARENS, _DOUBLE_DASHES]:
        text = pattern.sub(replacement, text)
    text = " " + text + " "
    for pattern, replacement in _ENDING_QUOTES:
        text = pattern.sub(replacement, text)
    for pattern in _CONTRACTIONS:
        text = pattern.sub(r" \1 \2 ", text)
    return text.split()


def mixed_segmentation(text: str, remove_punctuation: bool = False) -> list[str]:
    """The official `mixed_segmentation`: Chinese characters and listed punctuation alone, English as words.

    Example:
    >>> mixed_segmentation("在 2018年，CMRC test", remove_punctuation=True)
    ['在', '2018', '年', 'cmrc', 'test']
    """
    text = str(text).lower().strip()
    segments, pending = [], ""
    for char in text:
        if remove_punctuation and char in _PUNCTUATION_CHARS:
            continue
        if _CHINESE.search(char) or char in _PUNCTUATION_CHARS:
            if pending:
                segments.extend(treebank_words(pending))
                pending = ""
            segments.append(char)
        else:
            pending += char
    if pending:
        segments.extend(treebank_words(pending))
    return segments


def strip_punctuation(text: str) -> str:
    """The official `remove_punctuation`: lower-cased, stripped, the listed characters removed.

    Example:
    >>> strip_punctuation(" 《红楼梦》。 ")
    '红楼梦'
    """
    return "".join(char for char in str(text).lower().strip() if char not in _PUNCTUATION_CHARS)


def longest_common_substring(first: Sequence[str], second: Sequence[str]) -> int:
    """Length of the longest common contiguous run of segments (the official `find_lcs`).

    Example:
    >>> longest_common_substring(list("abcde"), list("xbcdy"))
    3
    """
    best = 0
    previous = [0] * (len(second) + 1)
    for item in first:
        current = [0] * (len(second) + 1)
        for j, other in enumerate(second):
            if item == other:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


def cmrc_f1(prediction: str, golds: Iterable[str]) -> float:
    """The official `calc_f1_score`: best over gold answers of the LCS-based F1 of punctuation-free segments.

    Example:
    >>> round(cmrc_f1("北京大学", ["北京"]), 4)
    0.6667
    """
    scores = [0.0]
    prediction_segments = mixed_segmentation(prediction, remove_punctuation=True)
    for gold in golds:
        gold_segments = mixed_segmentation(gold, remove_punctuation=True)
        common = longest_common_substring(gold_segments, prediction_segments)
        if common == 0:
            scores.append(0.0)
            continue
        precision, recall = common / len(prediction_segments), common / len(gold_segments)
        scores.append(2 * precision * recall / (precision + recall))
    return max(scores)


def cmrc_exact(prediction: str, golds: Iterable[str]) -> float:
    """The official `calc_em_score`: 1.0 when some gold answer equals the prediction without punctuation."""
    stripped = strip_punctuation(prediction)
    return float(any(strip_punctuation(gold) == stripped for gold in golds))


def cmrc2018(predictions: Mapping[str, str], gold) -> dict:
    """CMRC 2018 F1, EM and their average over all gold questions (official script's totals), 0-100.

    Args:
        predictions: {qid: predicted text}.
        gold: evaluation QuestionAnsweringExamples, or {qid: [gold texts]}.

    Returns:
        {"f1", "exact_match", "average", "total", "skip"} (skip: questions without a prediction, scored 0).

    Example:
    >>> cmrc2018({"q1": "北京大学"}, {"q1": ["北京"], "q2": ["上海"]})["f1"]
    33.33333333333333
    """
    answers = gold_answers(gold)
    f1 = exact = 0.0
    skip = 0
    for qid, texts in answers.items():
        if qid not in predictions:
            skip += 1
            continue
        f1 += cmrc_f1(predictions[qid], texts)
        exact += cmrc_exact(predictions[qid], texts)
    total = len(answers)
    f1_score, exact_score = 100.0 * f1 / total, 100.0 * exact / total
    average = (f1_score + exact_score) / 2
    return {"f1": f1_score, "exact_match": exact_score, "average": average, "total": total, "skip": skip}
