"""What `electra_tf.scoring` returns.

Example:
>>> WordScore("teh", 0.93, True).suspect
True
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class WordScore:
    """One word of a scored text.

    Attributes:
        word: str. The word (its WordPiece pieces joined).
        replaced_probability: float. The highest P(replaced) among its pieces.
        suspect: bool. `replaced_probability` is at or above the threshold.
    """

    word: str
    replaced_probability: float
    suspect: bool


@dataclasses.dataclass(frozen=True)
class TextScore:
    """The discriminator's reading of one text.

    Attributes:
        text: str. The input.
        tokens: list[str]. WordPiece tokens the model saw, without [CLS]/[SEP].
        replaced_probability: list[float]. Per token, P(replaced).
        words: list[WordScore]. Per word.
        naturalness: float. Mean log P(original) over the tokens (0 = entirely natural; lower = more tokens
            look replaced). Comparable across texts of different lengths.
    """

    text: str
    tokens: list[str]
    replaced_probability: list[float]
    words: list[WordScore]
    naturalness: float

    @property
    def suspects(self) -> list[WordScore]:
        """The words at or above the threshold."""
        return [word for word in self.words if word.suspect]


@dataclasses.dataclass(frozen=True)
class RankedText:
    """One candidate of a reranked list.

    Attributes:
        text: str. The candidate.
        naturalness: float. Its score (`TextScore.naturalness`).
        index: int. Its position in the input list.
    """

    text: str
    naturalness: float
    index: int
