"""From start/end logits over QA windows to one answer per question, as BERT's `write_predictions` does.

Per question: in each of its windows take the `n_best_size` best start and end positions; a pair is a candidate
when both are context tokens, end >= start, it spans at most `max_answer_length` tokens and the window is the
start token's maximum context. Candidates of all windows are ranked by start + end logit; the answer text is the
ORIGINAL context from the start token's first character to the end token's last (`QAFeatures` keeps the spans),
so answers keep the user's case, accents and spacing. Candidates with the same text are merged (the best kept).

SQuAD 2.0: the null score is the lowest `start_logits[0] + end_logits[0]` ([CLS]) over the question's windows,
and `null_score_diff = null score - best span score` (BERT); or, when the model has an answerability head and
`answerable_logits` are given, `null_score_diff = -max over windows of answerable_logit`. The question gets no
answer ("") when `null_score_diff > null_score_diff_threshold`. `null_score_diff` per question is what the
official evaluate-v2.0.py takes as `na_prob` to search the best threshold (`metrics.squad.squad_v2`).

Example:
>>> predictions = decode_qa(examples, features, outputs["start_logits"], outputs["end_logits"])  # doctest: +SKIP
>>> predictions.answers["56beb4343aeaaa14008c925b"]  # doctest: +SKIP
'308'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import QuestionAnsweringExample
from electra_tf.finetuning.qa_features import QAFeatures


@dataclasses.dataclass(frozen=True)
class SpanPrediction:
    """One candidate answer: its text, where it is in the context, and its scores."""

    text: str
    char_start: int  # first character in the context
    char_end: int  # one past the last character
    score: float  # start_logit + end_logit
    start_logit: float
    end_logit: float
    probability: float = 0.0  # softmax of `score` over the question's n-best list


@dataclasses.dataclass
class QAPredictions:
    """What `decode_qa` returns, keyed by question id."""

    answers: dict[str, str]  # final answer text; "" = no answer (SQuAD 2.0)
    best_spans: dict[str, SpanPrediction | None]  # best non-null candidate, None when there is none
    nbest: dict[str, list[SpanPrediction]]  # the n-best non-null candidates, best first
    null_score_diff: dict[str, float]  # SQuAD 2.0 only (else empty): > threshold means "no answer"

    def scores(self) -> dict[str, float]:
        """Per question, the best span's score (start + end logit); -inf where there is no candidate."""
        return {qid: (span.score if span is not None else float("-inf")) for qid, span in self.best_spans.items()}


def best_spans_in_window(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    token_char_start: np.ndarray,
    token_is_max_context: np.ndarray,
    *,
    n_best_size: int,
    max_answer_length: int,
) -> list[tuple[float, int, int]]:
    """Valid (score, start, end) candidates of one window, from its top start and end positions.

    Args:
        start_logits, end_logits: float [L].
        token_char_start: int [L], -1 for tokens outside the context.
        token_is_max_context: bool [L].
        n_best_size: int. How many top start and top end positions to pair.
        max_answer_length: int. Longest answer in tokens.

    Returns:
        list of (start_logit + end_logit, start, end), unsorted.

    Example:
    >>> best_spans_in_window(np.array([0., 5, 1]), np.array([0., 1, 4]), np.array([-1, 0, 3]),
    ...                      np.array([False, True, True]), n_best_size=2, max_answer_length=5)
    [(9.0, 1, 2), (6.0, 1, 1), (5.0, 2, 2)]
    """
    top_starts = np.argsort(-start_logits, kind="stable")[:n_best_size]
    top_ends = np.argsort(-end_logits, kind="stable")[:n_best_size]
    candidates = []
    for start in top_starts:
        if token_char_start[start] < 0 or not token_is_max_context[start]:
            continue
        for end in top_ends:
            if token_char_start[end] < 0 or end < start or end - start + 1 > max_answer_length:
                continue
            candidates.append((float(start_logits[start] + end_logits[end]), int(start), int(end)))
    return candidates


def decode_qa(
    examples: Sequence[QuestionAnsweringExample],
    features: QAFeatures,
    start_logits,
    end_logits,
    answerable_logits=None,
    *,
    n_best_size: int = 20,
    max_answer_length: int = 30,
    version_2_with_negative: bool = False,
    null_score_diff_threshold: float = 0.0,
) -> QAPredictions:
    """Picks each question's answer from its windows' logits.

    Args:
        examples: the examples `features` were built from (same order).
        features: QAFeatures.
        start_logits: float [F, L]. The model's `start_logits` for the features.
        end_logits: float [F, L].
        answerable_logits: float [F] or None. The model's `answerable_logits` (SQuAD 2.0 heads).
        n_best_size: int. Candidates kept per question (and top positions tried per window).
        max_answer_length: int. Longest answer, in tokens.
        version_2_with_negative: bool. Allow "no answer" (SQuAD 2.0).
        null_score_diff_threshold: float. Predict no answer when null_score_diff exceeds it.

    Returns:
        QAPredictions (answers, best_spans, nbest, null_score_diff).

    Raises:
        InputError: logits whose shapes do not match the features.

    Example:
    >>> predictions = decode_qa(examples, features, start, end, n_best_size=20,
    ...                         max_answer_length=30)  # doctest: +SKIP
    """
    start_logits = np.asarray(start_logits, np.float64)  # [F, L]
    end_logits = np.asarray(end_logits, np.float64)  # [F, L]
    expected = features.input_word_ids.shape
    if start_logits.shape != expected or end_logits.shape != expected:
        raise InputError(
            f"Expected start and end logits of shape {list(expected)} (features x seq_length). "
            f"Received: {list(start_logits.shape)} and {list(end_logits.shape)}"
        )
    if answerable_logits is not None:
        answerable_logits = np.asarray(answerable_logits, np.float64).reshape(-1)  # [F]
        if answerable_logits.shape[0] != expected[0]:
            raise InputError(f"Expected {expected[0]} answerable logits, received {answerable_logits.shape[0]}.")
    windows: dict[int, list[int]] = {}
    for feature, example_index in enumerate(features.example_index.tolist()):
        windows.setdefault(example_index, []).append(feature)

    answers, best_spans, nbest, null_diffs = {}, {}, {}, {}
    for example_index, example in enumerate(examples):
        candidates = []  # (score, feature, start, end)
        null_score = np.inf
        for feature in windows.get(example_index, []):
            for score, start, end in best_spans_in_window(
                start_logits[feature],
                end_logits[feature],
                features.token_char_start[feature],
                features.token_is_max_context[feature],
                n_best_size=n_best_size,
                max_answer_length=max_answer_length,
            ):
                candidates.append((score, feature, start, end))
            null_score = min(null_score, start_logits[feature, 0] + end_logits[feature, 0])
        candidates.sort(key=lambda candidate: -candidate[0])
        spans, seen = [], set()
        for score, feature, start, end in candidates:
            char_start = int(features.token_char_start[feature, start])
            char_end = int(features.token_char_end[feature, end])
            text = example.context[char_start:char_end]
            if text in seen:
                continue
            seen.add(text)
            start_logit, end_logit = float(start_logits[feature, start]), float(end_logits[feature, end])
            spans.append(SpanPrediction(text, char_start, char_end, score, start_logit, end_logit))
            if len(spans) == n_best_size:
                break
        if spans:
            scores = np.array([span.score for span in spans])
            probabilities = np.exp(scores - scores.max())
            probabilities /= probabilities.sum()
            spans = [dataclasses.replace(span, probability=float(p)) for span, p in zip(spans, probabilities)]
        best = spans[0] if spans else None
        answer = best.text if best is not None else ""
        if version_2_with_negative:
            if answerable_logits is not None:
                diff = -float(max(answerable_logits[f] for f in windows.get(example_index, [0])))
            else:
                diff = float(null_score - (best.score if best is not None else 0.0))
            null_diffs[example.qid] = diff
            if diff > null_score_diff_threshold:
                answer = ""
        answers[example.qid] = answer
        best_spans[example.qid] = best
        nbest[example.qid] = spans
    return QAPredictions(answers, best_spans, nbest, null_diffs)
