"""Readers of fine-tuning files, one module per format, each returning the dataclasses of `examples.py`.

| format | function | examples |
|---|---|---|
| TSV / CSV / any delimiter | `read_delimited` | `ClassificationExample` |
| JSON Lines | `read_jsonl` | `ClassificationExample` |
| SQuAD v1.1/v2.0, CMRC 2018, XQuAD | `read_squad` → `SquadFile` | `QuestionAnsweringExample` |
| CoNLL columns | `read_conll` | `TaggingExample` |

`read_classification_file` picks the delimited or JSON Lines reader from the file name and takes column
choices that work for both (a header name or index; for JSON Lines a field name). Bad rows raise
`electra_tf.errors.InputError` naming FILE:LINE; none is dropped silently.

Example:
>>> from electra_tf.finetuning.readers import read_classification_file
>>> examples = read_classification_file("cola/in_domain_dev.tsv", text_column=3, label_column=1,
...                                     header=False)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import ClassificationExample
from electra_tf.finetuning.readers.conll import read_conll
from electra_tf.finetuning.readers.delimited import read_delimited
from electra_tf.finetuning.readers.jsonl import read_jsonl
from electra_tf.finetuning.readers.labels import check_label, collect_labels, parse_regression_label
from electra_tf.finetuning.readers.squad import AnswerCheck, SquadFile, read_squad

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")

__all__ = [
    "AnswerCheck",
    "SquadFile",
    "check_label",
    "collect_labels",
    "parse_regression_label",
    "read_classification_file",
    "read_conll",
    "read_delimited",
    "read_jsonl",
    "read_squad",
]


def read_classification_file(
    path: str | os.PathLike,
    *,
    text_column: str | int,
    text_pair_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
    header: bool = True,
    labels: Sequence[str] | None = None,
    regression: bool = False,
    file_format: str | None = None,
) -> list[ClassificationExample]:
    """Reads a classification/regression file, delimited or JSON Lines, with the same column arguments.

    Args:
        path: str. The file.
        text_column, text_pair_column, label_column: header name or 0-based index (delimited), field name
            (JSON Lines). `label_column=None` reads an unlabelled file.
        delimiter: str | None. None: "," for .csv files, "\\t" otherwise (delimited files only).
        header: bool. Delimited files only: the first row names the columns.
        labels: Sequence[str] | None. Known labels (None: any, collect them with `collect_labels`).
        regression: bool. Labels must be numbers.
        file_format: "delimited" | "jsonl" | None (None: JSON Lines for .jsonl/.json/.ndjson, else delimited).

    Returns:
        list[ClassificationExample].

    Example:
    >>> read_classification_file("afqmc/train.json", text_column="sentence1", text_pair_column="sentence2",
    ...                          label_column="label")  # doctest: +SKIP
    """
    name = os.fspath(path)
    if file_format is None:
        file_format = "jsonl" if name.lower().endswith(JSONL_SUFFIXES) else "delimited"
    if file_format == "jsonl":
        return read_jsonl(
            name,
            text_field=str(text_column),
            text_pair_field=None if text_pair_column is None else str(text_pair_column),
            label_field=None if label_column is None else str(label_column),
            labels=labels,
            regression=regression,
        )
    if file_format != "delimited":
        raise InputError(f"Expected file_format 'delimited' or 'jsonl'. Received: file_format={file_format!r}")
    if delimiter is None:
        delimiter = "," if name.lower().endswith(".csv") else "\t"
    return read_delimited(
        name,
        text_column=text_column,
        text_pair_column=text_pair_column,
        label_column=label_column,
        delimiter=delimiter,
        header=header,
        labels=labels,
        regression=regression,
    )
