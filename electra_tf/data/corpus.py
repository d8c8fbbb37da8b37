"""Reading a text corpus (files, folders, globs; `.txt` and `.gz`) as a stream of sentences and document ends.

Three layouts are understood; `auto` picks one per file from its first 1,000 non-blank lines:

- `sentences`: one sentence a line, a blank line ends a document (the layout of the official
  `build_pretraining_dataset.py` and of BERT's Wikipedia dumps).
- `paragraphs`: one paragraph a line, a blank line ends a document; each line is split into sentences
  (`electra_tf.data.sentences.split_sentences`). `electra-tf corpus --builtin` writes this layout.
- `wrapped`: hard-wrapped prose such as Project Gutenberg books: consecutive non-blank lines form a paragraph,
  blank lines separate paragraphs, the whole file is one document.

Detection: a file is `wrapped` when more than 30% of its non-blank lines are followed by another non-blank
line although they do not end with sentence punctuation (hard-wrapped prose), or when more than half of its
non-blank lines are followed by a blank line (blank lines there separate paragraphs, not documents);
otherwise `paragraphs` when lines hold 1.5 sentences or more on average; otherwise `sentences`.

Repairs, all counted in `CorpusStats` (and so in the data manifest): CRLF and lone-CR line endings,
a UTF-8 byte-order mark, invalid UTF-8 (replaced by U+FFFD, counted per line), sentences longer than
`max_line_chars` (cut at whitespace). With `strip_gutenberg`, the lines up to and including
`*** START OF THE PROJECT GUTENBERG ...` (searched for in a file's first 1,000 lines) and from
`*** END OF THE PROJECT GUTENBERG ...` on are skipped and counted.

Example:
>>> reader = CorpusReader(["books/"], CorpusOptions(strip_gutenberg=True))  # doctest: +SKIP
>>> for block in reader.blocks():  # doctest: +SKIP
...     print(len(block.sentences), "sentences,", len(block.document_ends), "document ends")
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import gzip
import os
import pathlib
import itertools
import re
import zlib
from typing import Iterator, NamedTuple

from electra_tf.data.sentences import split_long_text, split_sentences
from electra_tf.errors import InputError

CORPUS_FORMATS = ("auto", "sentences", "paragraphs", "wrapped")
# What a folder is searched for (recursively); explicitly named files may have any name.
TEXT_SUFFIXES = (".txt", ".text", ".gz")
DETECTION_LINES = 1000  # non-blank lines a file's layout is guessed from
GUTENBERG_SEARCH_LINES = 1000  # the START marker is looked for in this many first lines
_GUTENBERG_START = re.compile(r"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)
_GUTENBERG_END = re.compile(r"^\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG", re.IGNORECASE)
_SENTENCE_FINAL = tuple(".!?:;\"')]\u201d\u2019\u3002\uff01\uff1f\u300d\u300f\uff09\u2026")
_BINARY_PROBE_BYTES = 8192
_BLOCK_BYTES = 4 * 1024 * 1024  # text decoded and split at a time


@dataclasses.dataclass(frozen=True)
class CorpusOptions:
    """How to read a corpus.

    Attributes:
        corpus_format: str. One of `CORPUS_FORMATS`; `auto` detects the layout per file.
        strip_gutenberg: bool. Skip Project Gutenberg headers and footers (licence text).
        max_line_chars: int. Sentences longer than this many characters are cut into pieces.
    """

    corpus_format: str = "auto"
    strip_gutenberg: bool = False
    max_line_chars: int = 10_000

    def __post_init__(self):
        if self.corpus_format not in CORPUS_FORMATS:
            raise InputError(
                f"Unknown corpus format {self.corpus_format!r}; expected one of {', '.join(CORPUS_FORMATS)}."
            )
        if self.max_line_chars < 100:
            raise InputError(f"max_line_chars must be at least 100, received {self.max_line_chars}.")


@dataclasses.dataclass
class CorpusStats:
    """What reading a corpus found, repaired and skipped. Everything here ends up in the manifest."""

    files: list = dataclasses.field(default_factory=list)  # {"path", "format", "bytes", "lines"} per file
    lines: int = 0  # physical lines read
    documents: int = 0  # documents with at least one sentence
    sentences: int = 0  # sentences yielded
    repaired: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # reason -> count
    skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # reason -> lines
    gutenberg_files: int = 0  # files whose Gutenberg START marker was found (stripped or not)
    gutenberg_start_missing: int = 0  # files read with strip_gutenberg that have no START marker (kept whole)

    def as_dict(self) -> dict:
        return {
            "files": len(self.files),
            "bytes": sum(entry["bytes"] for entry in self.files),
            "lines": self.lines,
            "documents": self.documents,
            "sentences": self.sentences,
            "formats": dict(sorted(collections.Counter(entry["format"] for entry in self.files).items())),
            "repaired": dict(sorted(self.repaired.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "gutenberg_files": self.gutenberg_files,
            "gutenberg_start_missing": self.gutenberg_start_missing,
        }


def resolve_corpus_paths(paths) -> list[pathlib.Path]:
    """Expands files, folders (recursively, `.txt`/`.text`/`.gz`) and globs into a sorted, de-duplicated list.

    Args:
        paths: list of str or os.PathLike. Files are kept in the order given; each folder or glob
            contributes its matches sorted by path.

    Returns:
        list of pathlib.Path. The files to read.

    Raises:
        InputError: a path that does not exist, a glob that matches nothing, or no files at all.

    Example:
    >>> resolve_corpus_paths(["corpus/en/*.txt"])  # doctest: +SKIP
    [PosixPath('corpus/en/a.txt'), PosixPath('corpus/en/b.txt')]
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    resolved: list[pathlib.Path] = []
    for raw in paths:
        text = os.fspath(raw)
        path = pathlib.Path(text)
        if path.is_file():
            resolved.append(path)
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _is_corpus_file_name(p, path))
            if not found:
                raise InputError(
                    f"Corpus folder {text!r} contains no {'/'.join(TEXT_SUFFIXES)} files. "
                    "Expected a folder of text files."
                )
            resolved.extend(found)
        elif glob.has_magic(text):
            matches = sorted(pathlib.Path(m) for m in glob.glob(text, recursive=True))
            found = [m for m in matches if m.is_file()]
            for folder in (m for m in matches if m.is_dir()):
                found.extend(sorted(p for p in folder.rglob("*") if p.is_file() and _is_corpus_file_name(p, folder)))
            if not found:
                raise InputError(f"Corpus glob {text!r} matches no files.")
            resolved.extend(found)
        else:
            raise InputError(f"No such corpus path: {text!r}. Expected a text file, a folder or a glob.")
    unique = list(dict.fromkeys(p.resolve() for p in resolved))
    if not unique:
        raise InputError("No corpus files given. Expected text files, folders or globs.")
    return unique


def _is_corpus_file_name(path: pathlib.Path, root: pathlib.Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return not hidden and path.name.lower().endswith(TEXT_SUFFIXES)


class SentenceBlock(NamedTuple):
    """A run of sentences in corpus order.

    Attributes:
        sentences: list of str. Stripped, non-empty sentences.
        document_ends: list of int. Indices into `sentences` after which a document ends, ascending.
    """

    sentences: list
    document_ends: list


class CorpusReader:
    """Reads corpus files into blocks of sentences with the positions where documents end.

    Args:
        paths: list of str or os.PathLike. Files, folders and globs (see `resolve_corpus_paths`).
        options: CorpusOptions. Layout, Gutenberg stripping, long-line limit.

    Example:
    >>> reader = CorpusReader(["a.txt"])  # doctest: +SKIP
    >>> list(reader.blocks())  # doctest: +SKIP
    [SentenceBlock(sentences=['First sentence.', 'Second one.'], document_ends=[1])]
    >>> reader.stats.documents  # doctest: +SKIP
    1
    """

    def __init__(self, paths, options: CorpusOptions | None = None):
        self.files = resolve_corpus_paths(paths)
        self.options = options or CorpusOptions()
        self.stats = CorpusStats()
        self.total_bytes = sum(path.stat().st_size for path in self.files)  # on disk (compressed for .gz)
        self.bytes_done = 0  # on-disk bytes of the files finished so far
        self._current_entry: dict | None = None  # the file being read, while it is plain text

    def blocks(self) -> Iterator[SentenceBlock]:
        """Yields the corpus as `SentenceBlock`s; every file ends a document.

        Raises:
            InputError: a binary, UTF-16 or corrupt file, or a corpus without any text.
        """
        for path in self.files:
            size = path.stat().st_size
            yield from self._file_blocks(path)
            self.bytes_done += size
            self._current_entry = None
        if self.stats.sentences == 0:
            raise InputError(
                f"The corpus is empty: {len(self.files)} file(s) hold no text "
                f"(first: {os.fspath(self.files[0])!r}). Expected UTF-8 text."
            )

    def position_bytes(self) -> int:
        """On-disk bytes read so far (a `.gz` file counts when it is finished), for progress displays."""
        current = self._current_entry["bytes"] if self._current_entry is not None else 0
        return min(self.total_bytes, self.bytes_done + current)

    # --- One file ---

    def _file_blocks(self, path: pathlib.Path) -> Iterator[SentenceBlock]:
        entry = {"path": os.fspath(path), "format": self.options.corpus_format, "bytes": 0, "lines": 0}
        self.stats.files.append(entry)
        self._current_entry = None if path.name.lower().endswith(".gz") else entry
        line_blocks = self._line_blocks(path, entry)
        first: list[str] = []
        for lines in line_blocks:  # the head must hold the lines that layout and START marker are found in
            first += lines
            if len(first) >= GUTENBERG_SEARCH_LINES and sum(map(bool, first)) >= DETECTION_LINES:
                break
        if not first:
            return
        first = self._gutenberg_header(first)
        if entry["format"] == "auto":
            entry["format"] = detect_format(_head_lines(first, DETECTION_LINES))
        parser = _LayoutParser(entry["format"], self)
        # A block is held back until the next one with sentences is parsed: a blank line at the start of a
        # block ends the document of the held block.
        held: SentenceBlock | None = None
        for lines in itertools.chain([first], line_blocks):
            footer_at = self._gutenberg_footer(lines) if self.options.strip_gutenberg else None
            if footer_at is not None:
                skipped = len(lines) - footer_at + sum(len(rest) for rest in line_blocks)
                self.stats.skipped["gutenberg_footer_lines"] += skipped
                lines = lines[:footer_at]
            held = yield from _release(held, *parser.feed(lines))
            if footer_at is not None:
                break
        held = yield from _release(held, *parser.finish())
        if held is not None:
            yield held

    def _line_blocks(self, path: pathlib.Path, entry: dict) -> Iterator[list[str]]:
        """Blocks of decoded lines without line endings or surrounding whitespace ("" for blank lines)."""
        repaired = self.stats.repaired
        with _open_binary(path) as stream:
            try:
                probe = stream.peek(_BINARY_PROBE_BYTES)[:_BINARY_PROBE_BYTES]
                if probe.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise InputError(f"{os.fspath(path)!r} is UTF-16 text. Expected UTF-8; convert it with iconv.")
                if b"\x00" in probe:
                    raise InputError(
                        f"{os.fspath(path)!r} looks like a binary file (it contains NUL bytes). "
                        "Expected UTF-8 text or gzipped UTF-8 text."
                    )
                first = True
                while True:
                    data = stream.read(_BLOCK_BYTES)
                    if not data:
                        return
                    if not data.endswith(b"\n"):
                        data += stream.readline()  # blocks end at line ends, so never inside a character
                    entry["bytes"] += len(data)
                    text = self._decode(data)
                    if first and text.startswith("\ufeff"):
                        text = text[1:]
                        repaired["byte_order_marks"] += 1
                    first = False
                    if "\r" in text:
                        crlf = text.count("\r\n")
                        repaired["crlf_line_endings"] += crlf
                        text = text.replace("\r\n", "\n")
                        if "\r" in text:
                            repaired["cr_line_endings"] += text.count("\r")
                            text = text.replace("\r", "\n")
                    lines = text.split("\n")
                    if text.endswith("\n"):
                        lines.pop()
                    entry["lines"] += len(lines)
                    self.stats.lines += len(lines)
                    yield [line.strip() for line in lines]
            except (OSError, EOFError, zlib.error) as error:
                raise InputError(f"Cannot read {os.fspath(path)!r}: {error}. Expected a valid .gz file.") from None

    def _decode(self, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            lines = []
            for raw in data.split(b"\n"):
                try:
                    lines.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    lines.append(raw.decode("utf-8", "replace"))
                    self.stats.repaired["invalid_utf8_lines"] += 1
            return "\n".join(lines)

    def _gutenberg_header(self, lines: list[str]) -> list[str]:
        """Notes a Gutenberg START marker in the first lines and, with `strip_gutenberg`, drops the header."""
        for index, line in enumerate(lines[:GUTENBERG_SEARCH_LINES]):
            if line.startswith("*") and _GUTENBERG_START.match(line):
                self.stats.gutenberg_files += 1
                if not self.options.strip_gutenberg:
                    return lines
                self.stats.skipped["gutenberg_header_lines"] += index + 1
                return lines[index + 1 :]
        if self.options.strip_gutenberg:
            self.stats.gutenberg_start_missing += 1
        return lines

    @staticmethod
    def _gutenberg_footer(lines: list[str]) -> int | None:
        for index, line in enumerate(lines):
            if line.startswith("*") and _GUTENBERG_END.match(line):
                return index
        return None

    def _cut_long(self, sentence: str) -> list[str]:
        self.stats.repaired["long_lines_split"] += 1
        return split_long_text(sentence, self.options.max_line_chars)


def _release(held: SentenceBlock | None, block: SentenceBlock, ends_held: bool):
    """Ends the held block's last document if asked; yields it once a newer block has sentences."""
    if ends_held and held is not None and held.document_ends[-1:] != [len(held.sentences) - 1]:
        held.document_ends.append(len(held.sentences) - 1)
    if not block.sentences:
        return held
    if held is not None:
        yield held
    return block


class _LayoutParser:
    """Turns blocks of lines of one file into sentences and document ends, for one layout (module docstring).

    `feed` and `finish` return `(block, ends_previous)`: `ends_previous` says that the document still open at
    the end of the previous block ends before this block's first sentence.
    """

    def __init__(self, layout: str, reader: CorpusReader):
        self._layout = layout
        self._reader = reader
        self._max_chars = reader.options.max_line_chars
        self._in_document = False  # a sentence was emitted since the last document end
        self._paragraph: list[str] = []  # "wrapped": lines of the paragraph still open at a block's end

    def feed(self, lines: list[str]) -> tuple[SentenceBlock, bool]:
        sentences: list[str] = []
        ends: list[int] = []
        ends_previous = False
        if self._layout == "wrapped":
            paragraph = self._paragraph
            for line in lines:
                if line:
                    paragraph.append(line)
                elif paragraph:
                    self._add(sentences, split_sentences(" ".join(paragraph)))
                    paragraph = []
            self._paragraph = paragraph
        else:
            split = self._layout == "paragraphs"
            max_chars = self._max_chars
            for line in lines:
                if not line:
                    if sentences:
                        if not ends or ends[-1] != len(sentences) - 1:
                            ends.append(len(sentences) - 1)
                    elif self._in_document:
                        ends_previous = True
                        self._in_document = False
                elif split:
                    self._add(sentences, split_sentences(line))
                elif len(line) <= max_chars:
                    sentences.append(line)
                else:
                    sentences.extend(self._reader._cut_long(line))
        return self._account(SentenceBlock(sentences, ends), ends_previous)

    def finish(self) -> tuple[SentenceBlock, bool]:
        """The rest of the file: an open paragraph, and the end of the file's last document."""
        sentences: list[str] = []
        if self._paragraph:
            self._add(sentences, split_sentences(" ".join(self._paragraph)))
            self._paragraph = []
        if sentences:
            return self._account(SentenceBlock(sentences, [len(sentences) - 1]), False)
        ends_previous = self._in_document
        self._in_document = False
        return self._account(SentenceBlock([], []), ends_previous)

    def _add(self, sentences: list[str], new: list[str]) -> None:
        for sentence in new:
            if len(sentence) <= self._max_chars:
                sentences.append(sentence)
            else:
                sentences.extend(self._reader._cut_long(sentence))

    def _account(self, block: SentenceBlock, ends_previous: bool) -> tuple[SentenceBlock, bool]:
        """Counts sentences and documents, and whether a document is left open after this block."""
        stats = self._reader.stats
        stats.sentences += len(block.sentences)
        stats.documents += len(block.document_ends) + ends_previous
        if block.sentences:
            self._in_document = block.document_ends[-1:] != [len(block.sentences) - 1]
        return block, ends_previous


def _head_lines(lines: list[str], count: int) -> list[str]:
    """The first lines holding `count` non-blank ones (blank lines in between kept)."""
    non_blank = 0
    for index, line in enumerate(lines):
        non_blank += bool(line)
        if non_blank >= count:
            return lines[: index + 1]
    return lines


def detect_format(lines: list[str]) -> str:
    """Guesses a file's layout from its first lines ("" for blank lines); see the module docstring.

    Args:
        lines: list of str. Stripped lines, "" for blank ones.

    Returns:
        str. "wrapped", "paragraphs" or "sentences".

    Example:
    >>> detect_format(["It was the best of times, it was", "the worst of times.", "", "Next paragraph."])
    'wrapped'
    >>> detect_format(["One sentence.", "Another sentence.", "", "A new document.", "Its end."])
    'sentences'
    """
    non_blank = [i for i, line in enumerate(lines) if line]
    if not non_blank:
        return "sentences"
    continued = sum(
        1
        for i in non_blank
        if i + 1 < len(lines) and lines[i + 1] and not lines[i].endswith(_SENTENCE_FINAL)
    )
    followed_by_blank = sum(1 for i in non_blank if i + 1 < len(lines) and not lines[i + 1])
    if continued > 0.3 * len(non_blank) or followed_by_blank > 0.5 * len(non_blank):
        return "wrapped"
    sample = [lines[i] for i in non_blank[:200]]
    sentences_per_line = sum(len(split_sentences(line)) for line in sample) / len(sample)
    return "paragraphs" if sentences_per_line >= 1.5 else "sentences"


def _open_binary(path: pathlib.Path):
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    if is_gzip:
        return gzip.open(path, "rb")
    if path.name.lower().endswith(".gz"):
        raise InputError(f"{os.fspath(path)!r} ends in .gz but is not gzip data. Expected a gzip file.")
    return open(path, "rb")
