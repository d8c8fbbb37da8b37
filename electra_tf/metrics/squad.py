"""SQuAD's exact match and F1, as the official evaluate-v1.1.py and evaluate-v2.0.py compute them (0-100).

Answers are compared after `normalize_answer`: lower-case, punctuation (Python's `string.punctuation`) removed,
the articles a/an/the removed, whitespace collapsed. F1 is over the bag of normalised tokens; a question scores
the best over its gold answers. v1.1 counts a question without prediction as 0 (it stays in the total).

SQuAD 2.0 (`squad_v2`): a question without gold answers has the gold answer "" (no answer), which only an empty
prediction matches (EM = F1 = 1); for answerable questions an empty prediction scores 0. Questions without a
prediction are left out, as the official script does. Given `na_probs` (per question, how likely it has no
answer: `qa_decoding`'s `null_score_diff`), predictions with `na_prob > na_prob_thresh` count as "no answer",
and `best_exact`/`best_f1` with their thresholds are found exactly as the official `find_best_thresh`.

Example:
>>> squad_v1({"q1": "the Denver Broncos"}, {"q1": ["Denver Broncos"]})
{'exact_match': 100.0, 'f1': 100.0, 'total': 1, 'missing': 0}
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Iterable, Mapping, Sequence

from electra_tf.finetuning.examples import QuestionAnsweringExample

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (the official `normalize_answer`).

    Example:
    >>> normalize_answer("The  Denver-Broncos!")
    'denverbroncos'
    """
    text = text.lower()
    text = "".join(char for char in text if char not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, gold: str) -> float:
    """1.0 when the normalised texts are equal, else 0.0 (v1.1's `exact_match_score`).

    Example:
    >>> exact_match_score("an apple.", "Apple")
    1.0
    """
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token-bag F1 of the normalised texts (v1.1's `f1_score`: 0.0 when no token is shared, even both empty).

    Example:
    >>> f1_score("Denver Broncos team", "the Denver Broncos")
    0.8
    """
    return float(_token_f1(normalize_answer(prediction).split(), normalize_answer(gold).split()))


def compute_exact_v2(gold: str, prediction: str) -> int:
    """v2.0's `compute_exact` (same as v1.1's on non-empty text)."""
    return int(normalize_answer(gold) == normalize_answer(prediction))


def compute_f1_v2(gold: str, prediction: str) -> float:
    """v2.0's `compute_f1`: when either side has no tokens, 1 if both have none, else 0.

    Example:
    >>> compute_f1_v2("", ""), compute_f1_v2("", "Denver")
    (1, 0)
    """
    gold_tokens = normalize_answer(gold).split() if gold else []
    prediction_tokens = normalize_answer(prediction).split() if prediction else []
    if not gold_tokens or not prediction_tokens:
        return int(gold_tokens == prediction_tokens)
    return _token_f1(prediction_tokens, gold_tokens)


def _token_f1(prediction_tokens: list[str], gold_tokens: list[str]):
    """The F1 of two token bags, both official scripts' core: 0 when no token is shared."""
    same = sum((collections.Counter(prediction_tokens) & collections.Counter(gold_tokens)).values())
    if same == 0:
        return 0
    precision, recall = same / len(prediction_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_answers(gold) -> dict[str, list[str]]:
    """{qid: [gold answer texts]} from QuestionAnsweringExamples or a mapping qid -> texts.

    Impossible questions (and questions without answers) get [].
    """
    if isinstance(gold, Mapping):
        return {str(qid): [str(text) for text in texts] for qid, texts in gold.items()}
    result = {}
    for example in gold:
        if not isinstance(example, QuestionAnsweringExample):
            raise TypeError(
                f"Expected QuestionAnsweringExample or a mapping of qid to answers, received {type(example)}"
            )
        result[example.qid] = [] if example.is_impossible else [answer.text for answer in example.answers]
    return result


def squad_v1(
    predictions: Mapping[str, str], gold: Iterable[QuestionAnsweringExample] | Mapping[str, Sequence[str]]
) -> dict:
    """SQuAD v1.1 exact match and F1 (0-100) over all gold questions (official evaluate-v1.1.py).

    Args:
        predictions: {qid: predicted text}.
        gold: the evaluation examples, or {qid: [gold texts]}. A question without gold answers (never in
            v1.1 files) has the gold answer "".

    Returns:
        {"exact_match", "f1", "total", "missing"}: missing predictions count as 0 and are counted.

    Example:
    >>> squad_v1({"q1": "Broncos", "q2": "x"}, {"q1": ["Denver Broncos"], "q2": ["y"]})["f1"]
    33.33333333333333
    """
    answers = gold_answers(gold)
    exact = f1 = 0.0
    missing = 0
    for qid, texts in answers.items():
        if qid not in predictions:
            missing += 1
            continue
        texts = texts or [""]
        exact += max(exact_match_score(predictions[qid], text) for text in texts)
        f1 += max(f1_score(predictions[qid], text) for text in texts)
    total = len(answers)
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total, "total": total, "missing": missing}


def _find_best_threshold(predictions, scores, na_probs, has_answer) -> tuple[float, float]:
    """The official `find_best_thresh`: sweep questions by na_prob, keep the best cumulative score."""
    score = best_score = sum(1 for qid in has_answer if not has_answer[qid])
    best_threshold = 0.0
    for qid in sorted(na_probs, key=lambda key: na_probs[key]):
        if qid not in scores:
            continue
        if has_answer[qid]:
            difference = scores[qid]
        else:
            difference = -1 if predictions[qid] else 0
        score += difference
        if score > best_score:
            best_score, best_threshold = score, na_probs[qid]
    return 100.0 * best_score / len(scores), best_threshold


def squad_v2(
    predictions: Mapping[str, str],
    gold: Iterable[QuestionAnsweringExample] | Mapping[str, Sequence[str]],
    na_probs: Mapping[str, float] | None = None,
    na_prob_thresh: float = 1.0,
) -> dict:
    """SQuAD 2.0 metrics as the official evaluate-v2.0.py prints them (0-100).

    Args:
        predictions: {qid: text}; "" means "no answer".
        gold: evaluation examples (is_impossible or no answers = unanswerable), or {qid: [texts]} ([] = none).
        na_probs: {qid: score that the question has no answer} (e.g. null_score_diff); None: all 0.0.
        na_prob_thresh: float. Predictions with na_prob above it count as "no answer" (official default 1.0).

    Returns:
        {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1",
        "NoAns_total" (the last six where such questions exist), "best_exact", "best_exact_thresh",
        "best_f1", "best_f1_thresh" (with na_probs), and "exact_match" (= exact, the name `evaluate` prints)}.

    Example:
    >>> result = squad_v2({"q1": "", "q2": "Broncos"}, {"q1": [], "q2": ["Denver Broncos"]})
    >>> result["exact"], round(result["f1"], 2), result["NoAns_exact"]
    (50.0, 83.33, 100.0)
    """
    answers = gold_answers(gold)
    has_answer = {qid: bool(texts) for qid, texts in answers.items()}
    exact_raw, f1_raw = {}, {}
    for qid, texts in answers.items():
        if qid not in predictions:
            continue
        texts = [text for text in texts if normalize_answer(text)] or [""]
        exact_raw[qid] = max(compute_exact_v2(text, predictions[qid]) for text in texts)
        f1_raw[qid] = max(compute_f1_v2(text, predictions[qid]) for text in texts)
    given_na_probs = na_probs is not None
    na_probs = {qid: float(na_probs[qid]) for qid in na_probs} if given_na_probs else {qid: 0.0 for qid in predictions}

    def thresholded(scores):
        return {
            qid: float(not has_answer[qid]) if na_probs.get(qid, 0.0) > na_prob_thresh else score
            for qid, score in scores.items()
        }

    exact_scores, f1_scores = thresholded(exact_raw), thresholded(f1_raw)

    def summary(qids, prefix=""):
        total = len(qids)
        return {
            f"{prefix}exact": 100.0 * sum(exact_scores[qid] for qid in qids) / total if total else 0.0,
            f"{prefix}f1": 100.0 * sum(f1_scores[qid] for qid in qids) / total if total else 0.0,
            f"{prefix}total": total,
        }

    result = summary(list(exact_scores))
    has_answer_ids = [qid for qid in exact_scores if has_answer[qid]]
    no_answer_ids = [qid for qid in exact_scores if not has_answer[qid]]
    if has_answer_ids:
        result.update(summary(has_answer_ids, "HasAns_"))
    if no_answer_ids:
        result.update(summary(no_answer_ids, "NoAns_"))
    if given_na_probs and exact_raw:
        best_exact, exact_threshold = _find_best_threshold(predictions, exact_raw, na_probs, has_answer)
        best_f1, f1_threshold = _find_best_threshold(predictions, f1_raw, na_probs, has_answer)
        result.update(
            best_exact=best_exact, best_exact_thresh=exact_threshold, best_f1=best_f1, best_f1_thresh=f1_threshold
        )
    result["exact_match"] = result["exact"]
    return result
