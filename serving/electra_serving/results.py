"""What the client returns: model metadata and status, and per-text results of the ELECTRA signatures.

Example:
    >>> TensorSpecInfo("DT_FLOAT", (None, 128)).numpy_dtype
    dtype('float32')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from electra_serving import dtypes


@dataclass(frozen=True)
class TensorSpecInfo:
    """A signature input or output: `DT_*` dtype name and shape (None = unknown size or rank)."""

    dtype: str
    shape: tuple[int | None, ...] | None

    @property
    def numpy_dtype(self) -> np.dtype:
        return dtypes.numpy_dtype(self.dtype)


@dataclass(frozen=True)
class SignatureInfo:
    """One SignatureDef: method name and inputs/outputs by alias."""

    method_name: str
    inputs: dict[str, TensorSpecInfo]
    outputs: dict[str, TensorSpecInfo]


@dataclass(frozen=True)
class ModelMetadata:
    """`GetModelMetadata`: the version that answered and its signatures."""

    name: str
    version: int
    signatures: dict[str, SignatureInfo]


@dataclass(frozen=True)
class VersionStatus:
    """`GetModelStatus`: one version's state (`AVAILABLE`, `LOADING`, `END`, ...) and its last error."""

    version: int
    state: str
    error_code: str
    error_message: str


@dataclass(frozen=True)
class TokenScores:
    """Replaced-token detection for one text.

    Attributes:
        tokens: list[str]. The tokens the model saw (padding removed).
        replaced_probability: np.ndarray. [tokens] float32, P(the token was replaced).
    """

    tokens: list[str]
    replaced_probability: np.ndarray


@dataclass(frozen=True)
class MaskFill:
    """The top-k candidates for one `[MASK]`, most likely first.

    Attributes:
        tokens: list[str]. [k] candidate tokens.
        probabilities: np.ndarray. [k] float32.
        ids: np.ndarray | None. [k] vocabulary ids, when the signature returns them.
    """

    tokens: list[str]
    probabilities: np.ndarray
    ids: np.ndarray | None


@dataclass(frozen=True)
class GeneratedText:
    """The result of `infill` or `generate` for one text: the best filling and every candidate.

    Attributes:
        text: str. The best candidate, words rejoined (Chinese without spaces).
        candidates: list[str]. Every candidate, best (most natural to the discriminator) first.
        scores: np.ndarray. [candidates] float32, mean log P(original) of each (higher is more natural).
        tokens: list[str]. The best candidate's WordPiece tokens, [CLS] and [SEP] included.
        generated: np.ndarray. [tokens] bool, which tokens were generated.
    """

    text: str
    candidates: list[str]
    scores: np.ndarray
    tokens: list[str]
    generated: np.ndarray


@dataclass(frozen=True)
class RankedText:
    """One candidate of `Client.rerank`, most natural first.

    Attributes:
        text: str. The candidate.
        naturalness: float. Mean log P(original) over its tokens ([CLS]/[SEP] excluded); 0 = entirely natural.
        index: int. Its position in the input list.
    """

    text: str
    naturalness: float
    index: int


@dataclass(frozen=True)
class Encoding:
    """Sentence and token vectors of a batch of texts (TF Hub BERT convention).

    Attributes:
        pooled_output: np.ndarray. [texts, hidden].
        sequence_output: np.ndarray. [texts, seq, hidden]; rows past a text's length are padding.
        input_mask: np.ndarray | None. [texts, seq], 1 for real tokens, when the signature returns it.
    """

    pooled_output: np.ndarray
    sequence_output: np.ndarray
    input_mask: np.ndarray | None


@dataclass(frozen=True)
class Classification:
    """`classify` for one text (or pair).

    Attributes:
        label: str | None. The most likely class (None for a regression model).
        label_id: int | None. Its index.
        probabilities: dict[str, float]. Probability of every class, in the model's label order (empty for
            regression).
        score: float | None. The regression model's prediction (None for classification).
    """

    label: str | None
    label_id: int | None
    probabilities: dict[str, float]
    score: float | None = None


@dataclass(frozen=True)
class Answer:
    """`answer` for one question: a slice of its context, or no answer.

    Attributes:
        text: str. The answer, `context[start:end]`; "" when there is none.
        start: int. Character offset in the context; -1 when there is no answer.
        end: int. Character offset just past the answer; -1 when there is no answer.
        score: float. start logit + end logit of the span.
        null_score_diff: float. SQuAD 2.0 models: above the model's threshold means no answer (0 otherwise).
    """

    text: str
    start: int
    end: int
    score: float
    null_score_diff: float = 0.0

    @property
    def has_answer(self) -> bool:
        return self.start >= 0


@dataclass(frozen=True)
class TaggedWord:
    """One word of a `tag`ged text.

    Attributes:
        word: str. `text[start:end]`.
        tag: str. The predicted tag (e.g. `B-PER`).
        start: int. Character offset of the word in the text.
        end: int. Character offset just past it.
        probability: float. The tag's probability.
    """

    word: str
    tag: str
    start: int
    end: int
    probability: float

