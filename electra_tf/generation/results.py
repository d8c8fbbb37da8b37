"""What `electra_tf.generation` returns: candidates for a `[MASK]`, filled texts, generated texts.

Example:
>>> MaskCandidate("unable", 0.25, ("un", "##able"), (2, 3)).pieces
('un', '##able')
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class MaskCandidate:
    """One filling of one `[MASK]`.

    Attributes:
        text: str. The filling as read: a token (`##s` for a continuation piece) or, with whole-word
            filling, the word its pieces make (`unable`).
        probability: float. The generator's probability of the token; for a whole word, the joint
            probability of its pieces (product of the piece probabilities, each predicted given the ones
            before it).
        pieces: tuple[str, ...]. The WordPiece tokens.
        ids: tuple[int, ...]. Their vocabulary ids.
    """

    text: str
    probability: float
    pieces: tuple[str, ...]
    ids: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class FillMaskResult:
    """The candidates for every `[MASK]` of one text.

    Attributes:
        text: str. The input text.
        masks: list[list[MaskCandidate]]. Per `[MASK]` in order, its candidates, most likely first.
        filled_text: str. The text (as the model read it: normalised, words rejoined) with each `[MASK]`
            replaced by its first candidate.
    """

    text: str
    masks: list[list[MaskCandidate]]
    filled_text: str


@dataclasses.dataclass(frozen=True)
class GeneratedText:
    """One filled or generated sequence.

    Attributes:
        text: str. Readable text (words rejoined; Chinese without spaces).
        score: float. The discriminator's mean log P(original) over the text's tokens (higher is more
            natural); for a model without a discriminator, the mean log-probability of the generated tokens.
        tokens: list[str]. WordPiece tokens without [CLS]/[SEP].
        generated: list[bool]. Per token, whether it was generated (a slot) rather than given.
        probabilities: list[float]. Per token, the generator's probability of a generated token (0 for given ones).
    """

    text: str
    score: float
    tokens: list[str]
    generated: list[bool]
    probabilities: list[float]


@dataclasses.dataclass(frozen=True)
class Generation:
    """The result for one input text: candidates best first.

    Attributes:
        prompt: str. The input text (prefix, or text with `[MASK]` gaps).
        candidates: list[GeneratedText]. Best (highest score) first.
    """

    prompt: str
    candidates: list[GeneratedText]

    @property
    def text(self) -> str:
        """The best candidate's text."""
        return self.candidates[0].text
