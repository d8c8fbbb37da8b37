"""The examples every fine-tuning reader produces and every task consumes, one dataclass per task type.

Readers (`readers.py`) turn files into these; features (`features.py`) turn these into packed model inputs.
`source` names the file and line (or JSON path) an example came from, so every later error can point at it.

Example:
>>> ClassificationExample(text_a="a fine film", label="1", source="train.tsv:2")
ClassificationExample(text_a='a fine film', text_b=None, label='1', source='train.tsv:2')
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ClassificationExample:
    """One text (or pair) with its label: a class name, or for regression the number as a string."""

    text_a: str  # the first (or only) text
    text_b: str | None = None  # the second text of a pair task (MRPC, MNLI, ...), else None
    label: str | None = None  # class name or regression target as written in the file; None when unlabelled
    source: str = ""  # "FILE:LINE" of the row, for error messages


@dataclasses.dataclass(frozen=True)
class Answer:
    """One gold answer of a question: its text and where it starts in the context (characters)."""

    text: str
    char_start: int


@dataclasses.dataclass(frozen=True)
class QuestionAnsweringExample:
    """A SQuAD-style question over a context (SQuAD v1.1/v2.0, CMRC 2018, XQuAD)."""

    qid: str  # the question's id in the file; predictions are keyed by it
    question: str
    context: str
    answers: tuple[Answer, ...] = ()  # gold answers (several in dev sets); empty when unanswerable/unlabelled
    is_impossible: bool = False  # SQuAD 2.0: the context holds no answer
    source: str = ""  # "FILE:ARTICLE/PARAGRAPH/QUESTION" path, for error messages


@dataclasses.dataclass(frozen=True)
class TaggingExample:
    """A sentence as words with one tag per word (CoNLL column files)."""

    words: tuple[str, ...]
    tags: tuple[str, ...] | None = None  # None when unlabelled; else len(tags) == len(words)
    source: str = ""  # "FILE:LINE" of the sentence's first row
