"""`electra-tf corpus`: assemble a text corpus.

Example:
    $ electra-tf corpus --builtin builtin.txt
"""

from __future__ import annotations

import os
import sys

from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "corpus",
        help="write an offline English corpus from the documentation of installed Python packages",
        description="Writes several MB of English prose taken from the docstrings of the Python standard "
        "library, NumPy, Keras, KerasHub, TensorFlow and TensorFlow Text, as installed (no download): one "
        "paragraph a line, a blank line between documents (one document per source file). Deterministic for "
        "a given set of installed package versions.",
    )
    parser.add_argument("--builtin", required=True, metavar="OUT.txt", help="the text file to write")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from electra_tf.data.builtin_corpus import write_builtin_corpus

    if os.path.isdir(args.builtin):
        raise InputError(f"{args.builtin!r} is a folder. Expected a file name such as corpus.txt.")
    os.makedirs(os.path.dirname(os.path.abspath(args.builtin)), exist_ok=True)

    def progress(source: str, documents: int) -> None:
        print(f"corpus: read {source} ({documents:,} documents so far)", file=sys.stderr, flush=True)

    summary = write_builtin_corpus(args.builtin, progress=progress)
    sources = ", ".join(f"{name} {count}" for name, count in summary.sources.items())
    print(
        f"Wrote {summary.bytes / 1e6:.1f} MB to {summary.path}: {summary.documents:,} documents, "
        f"{summary.paragraphs:,} paragraphs (documents per source: {sources})."
    )
    return 0
