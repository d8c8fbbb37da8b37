"""Opening task files for the readers: existence, UTF-8, emptiness, and the "FILE:LINE" names errors use."""

from __future__ import annotations

import os

from electra_tf.errors import InputError


def read_text(path: str | os.PathLike, what: str) -> str:
    """Reads a whole task file as UTF-8 text (a byte-order mark is dropped), rejecting missing and empty files.

    Args:
        path: str. The file.
        what: str. What the file should be, for the messages, e.g. "a TSV file of labelled texts".

    Returns:
        The file's text with "\\r\\n" and "\\r" turned into "\\n".

    Raises:
        InputError: the file is missing, a directory, not UTF-8, or holds only whitespace.

    Example:
    >>> read_text("train.tsv", "a TSV file")  # doctest: +SKIP
    'hello\\t1\\n'
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise InputError(f"No such file: {name!r}. Expected {what}.")
    if os.path.isdir(name):
        raise InputError(f"{name!r} is a directory. Expected {what}.")
    with open(name, "rb") as file:
        content = file.read()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise InputError(
            f"{name}:{line}: not UTF-8 text (invalid byte at offset {error.start}). Expected {what}."
        ) from None
    if not text.strip():
        raise InputError(f"{name}: the file is empty. Expected {what}.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def location(path: str | os.PathLike, line: int) -> str:
    """The "FILE:LINE" name of a row (1-based line), as examples' `source` and error messages write it."""
    return f"{os.fspath(path)}:{line}"
