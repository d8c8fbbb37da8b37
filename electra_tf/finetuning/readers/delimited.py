"""Reading classification and regression examples from delimited text files (TSV, CSV, any delimiter).

Every row becomes one `ClassificationExample` whose `source` is "FILE:LINE"; a row that lacks a column, has an
empty label, an unknown label or (for regression) a label that is not a number raises `InputError` naming its
file and line. Nothing is skipped but empty lines.

Tab-separated files are read without quote processing, as BERT's and GLUE's `_read_tsv` do (`quotechar=None`):
GLUE sentences contain unbalanced `"` characters. Other delimiters use CSV quoting (`"`).

Example:
>>> examples = read_delimited("train.tsv", text_column="sentence", label_column="label")  # doctest: +SKIP
>>> examples[0]  # doctest: +SKIP
ClassificationExample(text_a='hide new secretions', text_b=None, label='0', source='train.tsv:2')
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import ClassificationExample
from electra_tf.finetuning.readers._files import location, read_text
from electra_tf.finetuning.readers.columns import resolve_column
from electra_tf.finetuning.readers.labels import check_label, parse_regression_label

_DEFAULT_QUOTECHAR = object()


def read_delimited(
    path: str | os.PathLike,
    *,
    text_column: str | int,
    text_pair_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str = "\t",
    header: bool = True,
    labels: Sequence[str] | None = None,
    regression: bool = False,
    quotechar=_DEFAULT_QUOTECHAR,
) -> list[ClassificationExample]:
    """Reads one text (or a pair) and its label per row of a delimited file.

    Args:
        path: str. The file (UTF-8; a byte-order mark and CRLF line ends are accepted).
        text_column: str | int. Column of the text: header name, or 0-based index (int or digit string).
        text_pair_column: str | int | None. Column of the second text of pair tasks.
        label_column: str | int | None. Column of the label; None for unlabelled files (test sets).
        delimiter: str. One character: "\\t" for TSV, "," for CSV.
        header: bool. Whether the first row names the columns (it is then not an example).
        labels: Sequence[str] | None. Known class names: a row with another label raises InputError.
            None accepts any label (collect them from training data with `collect_labels`).
        regression: bool. Labels are numbers; each must parse as a finite float.
        quotechar: str | None. Quote character; default None for "\\t" (GLUE's TSV reading), '"' otherwise.

    Returns:
        list[ClassificationExample], in file order, `source` = "FILE:LINE".

    Raises:
        InputError: missing/empty/non-UTF-8 file, a column name not in the header, a row with too few columns,
        an empty or unknown label, a non-numeric regression label, a file with a header and no rows.

    Example:
    >>> read_delimited("cola/in_domain_dev.tsv", text_column=3, label_column=1, header=False)[0].label  # doctest: +SKIP
    '1'
    """
    name = os.fspath(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise InputError(f"Expected a one-character delimiter such as '\\t' or ','. Received: delimiter={delimiter!r}")
    if quotechar is _DEFAULT_QUOTECHAR:
        quotechar = None if delimiter == "\t" else '"'
    text = read_text(name, f"a {'tab' if delimiter == chr(9) else repr(delimiter)}-delimited file of texts")
    if quotechar is None:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quotechar)

    header_names = None
    first_data_line = 1
    rows = _rows_with_lines(reader, name)
    if header:
        for line, row in rows:
            header_names = [cell.strip() for cell in row]
            first_data_line = line + 1
            break
    where = location(name, first_data_line - 1) if header else name
    columns = {"text column": resolve_column(text_column, header_names, "text column", where)}
    if text_pair_column is not None:
        columns["text pair column"] = resolve_column(text_pair_column, header_names, "text pair column", where)
    if label_column is not None:
        columns["label column"] = resolve_column(label_column, header_names, "label column", where)
    needed = max(columns.values()) + 1

    examples = []
    for line, row in rows:
        source = location(name, line)
        if len(row) < needed:
            role, index = max(columns.items(), key=lambda item: item[1])
            raise InputError(
                f"{source}: the row has {len(row)} field(s) separated by {delimiter!r}, expected at least "
                f"{needed} (the {role} is index {index}). Check --delimiter and the column choice."
            )
        label = None
        if label_column is not None:
            label = row[columns["label column"]].strip()
            if not label:
                raise InputError(f"{source}: the label (column {columns['label column']}) is empty.")
            if regression:
                parse_regression_label(label, source)
            else:
                check_label(label, labels, source)
        text_b = row[columns["text pair column"]] if text_pair_column is not None else None
        examples.append(ClassificationExample(row[columns["text column"]], text_b, label, source))
    if not examples:
        raise InputError(f"{name}: no data rows{' after the header' if header else ''}. Expected at least one example.")
    return examples


def _rows_with_lines(reader, name: str):
    """Yields (first line of the row, fields) for non-empty rows; a csv error becomes InputError FILE:LINE."""
    previous_end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            where = location(name, previous_end + 1)
            raise InputError(f"{where}: {error}. Check the quoting and the delimiter.") from None
        start, previous_end = previous_end + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # an empty line holds no example
        yield start, row
