"""Reading SQuAD-format question answering files: SQuAD v1.1 and v2.0, CMRC 2018 and XQuAD (same layout).

Layout: `{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
"answer_start"}], "is_impossible"}]}]}]}`. Each question becomes a `QuestionAnsweringExample` whose `source` is
"FILE:ARTICLE/PARAGRAPH/QUESTION" (0-based positions in the file).

Every gold answer is checked: its text must occur at `answer_start` in the context. Where it does not, the
reader (with `on_mismatch="repair"`, the default) looks for the text elsewhere in the context: found, the
answer is kept with the occurrence nearest to `answer_start` and counted as repaired; not found, the answer is
dropped (and a question left without answers is dropped) with the reason. Both lists come back in the
`AnswerCheck` report; nothing is dropped silently. `on_mismatch="error"` raises `InputError` at the first one.

Example:
>>> squad = read_squad("xquad.en.json")  # doctest: +SKIP
>>> len(squad.examples), squad.answer_check.summary()  # doctest: +SKIP
(1190, '1190 answers checked: 1190 at their answer_start, 0 repaired, 0 dropped')
"""

from __future__ import annotations

import dataclasses
import json
import os

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import Answer, QuestionAnsweringExample
from electra_tf.finetuning.readers._files import read_text


@dataclasses.dataclass
class AnswerCheck:
    """How the gold answers of a SQuAD-format file matched their contexts."""

    checked: int = 0  # gold answers looked at
    exact: int = 0  # found at their answer_start as given
    repaired: list[str] = dataclasses.field(default_factory=list)  # "SOURCE: ..." one per repaired answer
    dropped: list[str] = dataclasses.field(default_factory=list)  # "SOURCE: reason" per dropped answer/question

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"{self.checked} answers checked: {self.exact} at their answer_start, {len(self.repaired)} repaired, "
            f"{len(self.dropped)} dropped"
        )


@dataclasses.dataclass
class SquadFile:
    """What `read_squad` returns: the questions, whether the file is SQuAD 2.0-style, and the answer check."""

    examples: list[QuestionAnsweringExample]
    version_2_with_negative: bool  # some question has is_impossible = true
    answer_check: AnswerCheck
    version: str | None = None  # the file's "version" field, when it has one


def read_squad(path: str | os.PathLike, *, on_mismatch: str = "repair") -> SquadFile:
    """Reads a SQuAD v1.1/v2.0 (or CMRC 2018, XQuAD) JSON file.

    Args:
        path: str. The JSON file.
        on_mismatch: "repair" (locate misplaced answers, drop the unfindable ones, report both) or "error".

    Returns:
        SquadFile: `examples` in file order, `version_2_with_negative`, `answer_check`.

    Raises:
        InputError: not JSON, a structure that is not SQuAD's (the message names the JSON path), a question
        without id/question text, duplicate ids, no questions at all, or (with "error") a misplaced answer.

    Example:
    >>> squad = read_squad("xquad.zh.json")  # doctest: +SKIP
    >>> squad.examples[0].answers[0]  # doctest: +SKIP
    Answer(text='308', char_start=10)
    """
    if on_mismatch not in ("repair", "error"):
        raise InputError(f"Expected on_mismatch to be 'repair' or 'error'. Received: on_mismatch={on_mismatch!r}")
    name = os.fspath(path)
    text = read_text(name, "a SQuAD-format JSON file")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{name}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno}).") from None
    data = _get(document, "data", list, name, "the top-level object")
    check = AnswerCheck()
    examples: list[QuestionAnsweringExample] = []
    seen_ids: dict[str, str] = {}
    any_impossible = False
    for article_index, article in enumerate(data):
        paragraphs = _get(article, "paragraphs", list, name, f"data[{article_index}]")
        for paragraph_index, paragraph in enumerate(paragraphs):
            path_p = f"data[{article_index}].paragraphs[{paragraph_index}]"
            context = _get(paragraph, "context", str, name, path_p)
            qas = _get(paragraph, "qas", list, name, path_p)
            for question_index, qa in enumerate(qas):
                path_q = f"{path_p}.qas[{question_index}]"
                source = f"{name}:{article_index}/{paragraph_index}/{question_index}"
                qid = _get(qa, "id", (str, int), name, path_q)
                qid = str(qid).strip()
                if qid in seen_ids:
                    raise InputError(f"{source}: question id {qid!r} was already used at {seen_ids[qid]}.")
                seen_ids[qid] = source
                question = _get(qa, "question", str, name, path_q)
                is_impossible = qa.get("is_impossible", False)
                if not isinstance(is_impossible, bool):
                    raise InputError(
                        f"{name}: {path_q}.is_impossible should be true or false, received {is_impossible!r}."
                    )
                any_impossible |= is_impossible
                raw_answers = [] if is_impossible else qa.get("answers", [])
                if not isinstance(raw_answers, list):
                    raise InputError(
                        f"{name}: {path_q}.answers should be a list, received {type(raw_answers).__name__}."
                    )
                answers = []
                for answer_index, raw in enumerate(raw_answers):
                    where = f"{source} answer {answer_index}"
                    json_path = f"{name}: {path_q}.answers[{answer_index}]"
                    answer = _checked_answer(raw, context, where, json_path, check, on_mismatch)
                    if answer is not None:
                        answers.append(answer)
                if raw_answers and not answers:
                    reason = "none of its answers occurs in the context"
                    check.dropped.append(f"{source}: question {qid!r} dropped: {reason}")
                    continue
                examples.append(QuestionAnsweringExample(qid, question, context, tuple(answers), is_impossible, source))
    if not seen_ids:
        raise InputError(f"{name}: no questions. Expected data[].paragraphs[].qas[] entries.")
    version = document.get("version") if isinstance(document.get("version"), str) else None
    return SquadFile(examples, any_impossible, check, version)


def _get(container, key: str, kind, name: str, path: str):
    if not isinstance(container, dict):
        raise InputError(f"{name}: {path} should be a JSON object, received {type(container).__name__}.")
    if key not in container:
        raise InputError(f"{name}: {path} has no {key!r} field. Expected SQuAD's layout.")
    value = container[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        kinds = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise InputError(f"{name}: {path}.{key} should be {kinds}, received {type(value).__name__}.")
    return value


def _checked_answer(raw, context: str, where: str, path: str, check: AnswerCheck, on_mismatch: str) -> Answer | None:
    """The answer with a verified char_start, or None (dropped, recorded in `check`)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise InputError(f"{path} should be an object with a string 'text', received {raw!r}.")
    text = raw["text"]
    start = raw.get("answer_start", -1)
    if isinstance(start, bool) or not isinstance(start, int):
        raise InputError(f"{path}.answer_start should be an integer, received {start!r}.")
    check.checked += 1
    if text and 0 <= start and context[start : start + len(text)] == text:
        check.exact += 1
        return Answer(text, start)
    problem = (
        f"answer {text!r} is not at answer_start {start} (the context there reads "
        f"{context[max(start, 0) : max(start, 0) + len(text)]!r})"
    )
    if on_mismatch == "error":
        raise InputError(f"{where}: {problem}.")
    stripped = text.strip()
    occurrences = _occurrences(context, stripped) if stripped else []
    if not occurrences:
        check.dropped.append(f"{where}: dropped: {problem} and does not occur anywhere in the context")
        return None
    nearest = min(occurrences, key=lambda position: (abs(position - start), position))
    check.repaired.append(f"{where}: {problem}; moved to the occurrence at {nearest}")
    return Answer(stripped, nearest)


def _occurrences(context: str, text: str) -> list[int]:
    positions, position = [], context.find(text)
    while position >= 0:
        positions.append(position)
        position = context.find(text, position + 1)
    return positions
