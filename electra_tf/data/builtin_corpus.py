"""An offline English corpus: prose paragraphs from the docstrings of the installed Python packages.

Demos and the quickstart need text on a fresh machine with no download. Every Python installation carries
megabytes of English prose in its documentation strings. `write_builtin_corpus` collects it from the
standard library, NumPy, Keras and TensorFlow, reading their source files with `ast` (nothing is imported,
so no module's import-time side effects run and it takes seconds).

Which paragraphs are kept (prose, not code or reference tables): a docstring is split at blank lines and
changes of indentation; an argument entry (`name: text`, `name (type): text`, or NumPy's `name : type`
followed by indented text) gives its text. A paragraph is dropped when a line starts with `>>>`, `...` or
`.. ` (code, directives), when it is a section header or introduces a literal block (`::`), or when it has
fewer than 8 words, does not start with an upper-case letter, does not end with `.`, `!` or `?`, or has
fewer than 70% plain words. RST roles and
back-quotes are reduced to their text. Repeated paragraphs are kept once. Each source file is one
document: its paragraphs one a line, then a blank line (the `paragraphs` layout of `electra_tf.data.corpus`).

The output is deterministic for a given set of installed package versions (files are visited in sorted
order).

Example:
>>> summary = write_builtin_corpus("builtin.txt")  # doctest: +SKIP
>>> summary.documents, summary.paragraphs, summary.bytes  # doctest: +SKIP
(2641, 31012, 6153904)
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import os
import pathlib
import re
import sysconfig
import warnings
from typing import Callable, Iterator

# Packages to read after the standard library, in this order: electra-tf's own pinned dependencies.
DEFAULT_PACKAGES = ("numpy", "keras", "keras_hub", "tensorflow", "tensorflow_text")
MIN_WORDS = 8
MIN_PLAIN_WORD_FRACTION = 0.7
# Folders that hold tests, generated API re-exports or vendored non-prose code.
_SKIPPED_DIRS = frozenset(
    {"__pycache__", "test", "tests", "testing", "idle_test", "site-packages", "_api", "include", "turtledemo"}
)
_ROLE = re.compile(r":[\w:.-]+:`([^`<]*?)(?:\s*<[^`]*>)?`")  # :func:`name` / :ref:`text <target>`
_QUOTED = re.compile(r"`{1,2}([^`]+)`{1,2}_?")
_HEADER = re.compile(r"^(\w[\w ]*:|[-=~^*#]{3,})$")
# "name: ", "name (type): " (Google style) or "name : type" (NumPy style) opening an argument entry.
_ARGUMENT_NAME = re.compile(r"^(?:\*{0,2}\w+(?: \([^)]*\))?:\s+|\w+ : \S.*$)")
_PLAIN_WORD = re.compile(r"^[\"'(]*[A-Za-z][a-z]*(?:['-][a-z]+)*[\"'),.;:!?]*$")


@dataclasses.dataclass(frozen=True)
class BuiltinCorpusSummary:
    """What `write_builtin_corpus` wrote."""

    path: str
    documents: int
    paragraphs: int
    bytes: int
    sources: dict  # source name -> documents taken from it


def write_builtin_corpus(
    out_file,
    packages: tuple[str, ...] = DEFAULT_PACKAGES,
    progress: Callable[[str, int], None] | None = None,
) -> BuiltinCorpusSummary:
    """Writes the docstring corpus (see the module docstring) to `out_file`.

    Args:
        out_file: str or os.PathLike. The text file to write (its folder must exist).
        packages: tuple of str. Installed packages to read after the standard library; missing ones are
            skipped (and absent from `sources`).
        progress: callable or None. Called as `progress(source_name, documents_so_far)` per source.

    Returns:
        BuiltinCorpusSummary.
    """
    seen: set[str] = set()
    sources: dict[str, int] = {}
    documents = paragraphs = 0
    temporary = os.fspath(out_file) + ".tmp"
    with open(temporary, "w", encoding="utf-8", newline="\n") as stream:
        for name, root in _source_roots(packages):
            taken = 0
            for path in _python_files(root):
                document = [p for p in _file_paragraphs(path) if p not in seen]
                if not document:
                    continue
                seen.update(document)
                stream.write("\n".join(document) + "\n\n")
                taken += 1
                paragraphs += len(document)
            sources[name] = taken
            documents += taken
            if progress is not None:
                progress(name, documents)
    os.replace(temporary, out_file)
    return BuiltinCorpusSummary(
        path=os.fspath(out_file),
        documents=documents,
        paragraphs=paragraphs,
        bytes=os.path.getsize(out_file),
        sources=sources,
    )


def _source_roots(packages: tuple[str, ...]) -> Iterator[tuple[str, pathlib.Path]]:
    yield "python-stdlib", pathlib.Path(sysconfig.get_paths()["stdlib"])
    for package in packages:
        spec = importlib.util.find_spec(package)  # finds the folder without importing the package
        if spec is not None and spec.submodule_search_locations:
            yield package, pathlib.Path(list(spec.submodule_search_locations)[0])


def _python_files(root: pathlib.Path) -> Iterator[pathlib.Path]:
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py") and not name.endswith("_test.py") and not name.startswith("test_"):
                yield pathlib.Path(folder) / name


def _file_paragraphs(path: pathlib.Path) -> list[str]:
    """Prose paragraphs of a source file's module, class and function docstrings, in source order."""
    try:
        source = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError, RecursionError):
        return []
    nodes = [tree] + [
        node for node in ast.walk(tree) if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    nodes.sort(key=lambda node: getattr(node, "lineno", 0))
    paragraphs = []
    for node in nodes:
        docstring = ast.get_docstring(node, clean=False)
        if docstring:
            paragraphs.extend(prose_paragraphs(docstring))
    return list(dict.fromkeys(paragraphs))


def prose_paragraphs(docstring: str) -> list[str]:
    """The prose paragraphs of one docstring, each joined into a single line (rules in the module docstring).

    Args:
        docstring: str. A raw docstring.

    Returns:
        list of str.

    Example:
    >>> prose_paragraphs('''Adds two numbers and returns their sum, as integers or floats.
    ...
    ...     Args:
    ...         a: the first number.
    ...
    ...     >>> add(1, 2)
    ...     3
    ...     ''')
    ['Adds two numbers and returns their sum, as integers or floats.']
    """
    kept = []
    for block in re.split(r"\n\s*\n", inspect.cleandoc(docstring)):
        for lines in _indentation_groups(block.split("\n")):
            if any(line.startswith((">>>", "...", ".. ")) for line in lines):
                continue
            if _HEADER.match(lines[0]) or lines[-1].endswith("::"):
                continue
            text = " ".join([_ARGUMENT_NAME.sub("", lines[0])] + lines[1:])
            text = _QUOTED.sub(r"\1", _ROLE.sub(r"\1", text))
            text = " ".join(text.split())
            words = text.split(" ")
            if len(words) < MIN_WORDS or not text[0].isupper() or not text.endswith((".", "!", "?")):
                continue
            if sum(bool(_PLAIN_WORD.match(word)) for word in words) < MIN_PLAIN_WORD_FRACTION * len(words):
                continue
            kept.append(text)
    return kept


def _indentation_groups(lines: list[str]) -> Iterator[list[str]]:
    """Runs of lines with the same indentation, stripped; each argument entry (with its deeper-indented
    continuation lines) is a run of its own."""
    group: list[str] = []
    indent = 0
    for line in lines:
        depth = len(line) - len(line.lstrip())
        continues_entry = bool(group) and depth > indent and bool(_ARGUMENT_NAME.match(group[0]))
        starts_entry = depth == indent and bool(_ARGUMENT_NAME.match(line.strip()))
        if group and (starts_entry or (depth != indent and not continues_entry)):
            yield group
            group = []
        if not group:
            indent = depth
        group.append(line.strip())
    if group:
        yield group
