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
