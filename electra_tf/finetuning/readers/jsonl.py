"""Reading classification examples from JSON Lines files: one JSON object a line, fields chosen by name.

CLUE's classification files (TNEWS, AFQMC, ...) are in this format: `{"sentence": "...", "label": "102", ...}`.
A line that is not a JSON object, lacks a chosen field or has a bad label raises `InputError` with FILE:LINE.

Example:
>>> read_jsonl("tnews/dev.json", text_field="sentence", label_field="label")[0].label  # doctest: +SKIP
'108'
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import ClassificationExample
from electra_tf.finetuning.readers._files import location, read_text
from electra_tf.finetuning.readers.labels import check_label, parse_regression_label


def read_jsonl(
    path: str | os.PathLike,
    *,
    text_field: str,
    text_pair_field: str | None = None,
    label_field: str | None = None,
    labels: Sequence[str] | None = None,
    regression: bool = False,
) -> list[ClassificationExample]:
    """Reads one text (or a pair) and its label per line of a JSON Lines file.

    Args:
        path: str. The file; empty lines are allowed between objects.
        text_field: str. Field of the text (a string).
        text_pair_field: str | None. Field of the second text of pair tasks.
        label_field: str | None. Field of the label (string or number, kept as written); None: unlabelled.
        labels: Sequence[str] | None. Known labels; another label raises InputError. None accepts any.
        regression: bool. Labels must be finite numbers.

    Returns:
        list[ClassificationExample], `source` = "FILE:LINE".

    Raises:
        InputError: a line that is not a JSON object, a missing field, a text that is not a string, an empty
        or unknown label, a non-numeric regression label, a file without objects.

    Example:
    >>> read_jsonl("afqmc/dev.json", text_field="sentence1", text_pair_field="sentence2",
    ...            label_field="label")[0].text_b  # doctest: +SKIP
    '花呗收款额度限制'
    """
    name = os.fspath(path)
    text = read_text(name, "a JSON Lines file (one JSON object a line)")
    examples = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        source = location(name, number)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{source}: not a JSON object ({error.msg} at column {error.colno}).") from None
        if not isinstance(record, dict):
            raise InputError(f"{source}: expected a JSON object, received a {type(record).__name__}.")
        text_a = _text(record, text_field, source)
        text_b = _text(record, text_pair_field, source) if text_pair_field is not None else None
        label = None
        if label_field is not None:
            label = _label(record, label_field, source)
            if regression:
                parse_regression_label(label, source)
            else:
                check_label(label, labels, source)
        examples.append(ClassificationExample(text_a, text_b, label, source))
    if not examples:
        raise InputError(f"{name}: no JSON objects. Expected one example a line.")
    return examples


def _field(record: dict, field: str, source: str):
    if field not in record:
        raise InputError(f"{source}: no field {field!r}. The object has {sorted(record)}.")
    return record[field]


def _text(record: dict, field: str, source: str) -> str:
    value = _field(record, field, source)
    if not isinstance(value, str):
        raise InputError(f"{source}: field {field!r} should be a string, received {type(value).__name__} {value!r}.")
    return value


def _label(record: dict, field: str, source: str) -> str:
    value = _field(record, field, source)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"{source}: label field {field!r} should be a string or number, received {value!r}.")
    label = str(value).strip()
    if not label:
        raise InputError(f"{source}: the label (field {field!r}) is empty.")
    return label
