"""Scoring text with ELECTRA's discriminator: per-token replaced probability, error detection, naturalness,
reranking of candidate sentences.

Example:
>>> from electra_tf.text_model import TextModel
>>> from electra_tf import scoring
>>> model = TextModel.load("runs/tiny/final")  # doctest: +SKIP
>>> scoring.score(model, "the cat sat on the mat.")[0].naturalness  # doctest: +SKIP
-0.04
"""

from electra_tf.scoring.results import RankedText, TextScore, WordScore
from electra_tf.scoring.text_scoring import DEFAULT_THRESHOLD, detect_errors, naturalness, rerank, score

__all__ = ["DEFAULT_THRESHOLD", "RankedText", "TextScore", "WordScore", "detect_errors", "naturalness", "rerank",
           "score"]
