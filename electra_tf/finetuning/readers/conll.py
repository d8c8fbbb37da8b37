"""Reading tagging examples from CoNLL column files (CoNLL-2003 NER, POS, chunking, Chinese NER in BIO/BIOES).

One token a line: the token in the first column, its tag in a chosen column (default the last), columns split on
whitespace (or a given delimiter). A blank line ends a sentence; `-DOCSTART-` lines end one too and are not
tokens. A row that does not split into a token and a tag raises `InputError` with FILE:LINE.

Example:
>>> sentences = read_conll("eng.train")  # doctest: +SKIP
>>> sentences[0]  # doctest: +SKIP
TaggingExample(words=('EU', 'rejects', ...), tags=('I-ORG', 'O', ...), source='eng.train:3')
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import TaggingExample
from electra_tf.finetuning.readers._files import location, read_text

DOCSTART = "-DOCSTART-"


def read_conll(
    path: str | os.PathLike,
    *,
    tag_column: int = -1,
    delimiter: str | None = None,
    tags: Sequence[str] | None = None,
    labelled: bool = True,
) -> list[TaggingExample]:
    """Reads sentences of (token, tag) rows.

    Args:
        path: str. The file.
        tag_column: int. 0-based column of the tag; negative counts from the end (-1: the last). Not 0.
        delimiter: str | None. Column separator; None splits on any run of whitespace (CoNLL-2003's spaces,
            tabs). With a delimiter, a token may contain spaces.
        tags: Sequence[str] | None. Known tags; another tag raises InputError. None accepts any.
        labelled: bool. False reads tokens only (one or more columns), `tags=None` on every example.

    Returns:
        list[TaggingExample], `source` = "FILE:LINE" of each sentence's first row.

    Raises:
        InputError: missing/empty file, a row without a tag column, an unknown tag, no sentences.

    Example:
    >>> read_conll("ner.txt", tag_column=3)[0].tags[:2]  # doctest: +SKIP
    ('B-ORG', 'O')
    """
    name = os.fspath(path)
    if labelled and (isinstance(tag_column, bool) or not isinstance(tag_column, int) or tag_column == 0):
        raise InputError(
            f"Expected tag_column to be a column index other than 0 (the token's), negative from the end. "
            f"Received: tag_column={tag_column!r}"
        )
    text = read_text(name, "a CoNLL column file (token, then tags, one token a line)")
    examples: list[TaggingExample] = []
    words: list[str] = []
    sentence_tags: list[str] = []
    first_line = 0

    def end_sentence():
        if words:
            examples.append(
                TaggingExample(tuple(words), tuple(sentence_tags) if labelled else None, location(name, first_line))
            )
            words.clear()
            sentence_tags.clear()

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            end_sentence()
            continue
        fields = line.split(delimiter) if delimiter is not None else line.split()
        if delimiter is not None:
            fields = [field.strip() for field in fields]
        if fields[0] == DOCSTART:
            end_sentence()
            continue
        where = location(name, number)
        if labelled:
            needed = tag_column + 1 if tag_column > 0 else max(2, -tag_column + 1)
            if len(fields) < needed or not fields[0]:
                raise InputError(
                    f"{where}: the row {line.strip()!r} does not split into a token and a tag in column "
                    f"{tag_column} ({len(fields)} field(s) split on "
                    f"{'whitespace' if delimiter is None else repr(delimiter)}). Check --tag-column."
                )
            tag = fields[tag_column]
            if not tag:
                raise InputError(f"{where}: the tag (column {tag_column}) is empty.")
            if tags is not None and tag not in tags:
                raise InputError(f"{where}: unknown tag {tag!r}. Known tags: {', '.join(map(repr, tags))}.")
            sentence_tags.append(tag)
        if not words:
            first_line = number
        words.append(fields[0])
    end_sentence()
    if not examples:
        raise InputError(f"{name}: no sentences (only -DOCSTART- and blank lines). Expected token and tag rows.")
    return examples
