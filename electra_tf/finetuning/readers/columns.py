"""Choosing a column of a delimited file by header name or 0-based index (given as int or as a digit string)."""

from __future__ import annotations

from electra_tf.errors import InputError


def resolve_column(column: str | int, header: list[str] | None, role: str, where: str) -> int:
    """The 0-based index of `column`.

    A string equal to a header name means that column; otherwise a string of digits (or an int) is an index.

    Args:
        column: str | int. Header name or 0-based index.
        header: list[str] | None. The header row's names, or None for a file without header.
        role: str. What the column is for ("text column", "label column"), for messages.
        where: str. "FILE:LINE" of the header (or the file name), for messages.

    Returns:
        int, the column's index (not yet checked against row lengths: rows are checked as they are read).

    Raises:
        InputError: a name that is not in the header, a name with no header, or a negative index.

    Example:
    >>> resolve_column("sentence", ["sentence", "label"], "text column", "train.tsv:1")
    0
    >>> resolve_column("3", None, "text column", "train.tsv")
    3
    """
    if isinstance(column, bool):
        raise InputError(f"{where}: the {role} must be a header name or a 0-based index, received {column!r}.")
    if isinstance(column, str):
        if header is not None and column in header:
            return header.index(column)
        if column.strip().isdigit():
            return int(column.strip())
        if header is None:
            raise InputError(
                f"{where}: the {role} {column!r} is a name, but the file is read without a header. "
                f"Give a 0-based column index, or read the file with its header row."
            )
        raise InputError(
            f"{where}: the {role} {column!r} is not in the header. Expected one of {header} or a 0-based index."
        )
    if isinstance(column, int) and column >= 0:
        return column
    raise InputError(f"{where}: the {role} must be a header name or a 0-based index >= 0, received {column!r}.")
