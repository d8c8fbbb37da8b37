"""What the text commands (`fill-mask`, `generate`, `score`, `rerank`) share: their common flags, reading texts
from arguments and `--file`, loading the model, JSON lines, and highlighting on a terminal.

Example:
    $ electra-tf score --model runs/tiny/final --file sentences.txt --json
"""

from __future__ import annotations

import json
import os
import sys

from electra_tf.errors import InputError

_HIGHLIGHT = "\033[1;31m"  # bold red
_RESET = "\033[0m"


def add_common_arguments(parser, texts_metavar: str = "TEXT", texts_help: str = "texts") -> None:
    """Adds TEXT..., --model, --file, --json and --seq-length to a text command's parser."""
    parser.add_argument("texts", nargs="*", metavar=texts_metavar, help=texts_help)
    parser.add_argument("--model", required=True, metavar="MODEL_DIR",
                        help="pretrained model directory (or a pretraining run directory: its final/)")
    parser.add_argument("--file", default=None, metavar="PATH", help="read texts from a file, one a line "
                        "(blank lines skipped), after any given as arguments")
    parser.add_argument("--json", action="store_true", help="print one JSON object a line, for programs")
    parser.add_argument("--seq-length", type=int, default=None,
                        help="tokens per sequence, [CLS]/[SEP] included (default: the model's seq_length)")


def read_texts(args, what: str = "text") -> list[str]:
    """The texts of the arguments, then the lines of `--file`; InputError when there are none."""
    texts = list(args.texts)
    if args.file is not None:
        if not os.path.isfile(args.file):
            raise InputError(f"No such file: {args.file!r}. Expected a text file with one {what} a line.")
        try:
            with open(args.file, encoding="utf-8") as f:
                texts += [line.rstrip("\r\n") for line in f if line.strip()]
        except UnicodeDecodeError as error:
            raise InputError(f"{args.file!r} is not UTF-8 text (invalid byte at offset {error.start}).") from None
    if not texts:
        raise InputError(f"No {what}s: give them as arguments or with --file.")
    return texts


def check_texts(texts: list[str], what: str = "text", need_mask: bool = False) -> None:
    """Fails fast, before the model loads: InputError for an empty text, or one without `[MASK]` when needed."""
    for index, text in enumerate(texts, start=1):
        if not text.strip():
            raise InputError(f"{what.capitalize()} {index} is empty. Expected some words.")
        if need_mask and "[MASK]" not in text:
            raise InputError(f"Text {index} has no [MASK]: {text!r:.80}. Mark each gap with [MASK].")


def load_model(args):
    """The `TextModel` of `--model` with `--seq-length`."""
    from electra_tf.text_model import TextModel

    return TextModel.load(args.model, seq_length=args.seq_length)


def print_json(record: dict) -> None:
    """One JSON object on one line, UTF-8 text as is."""
    print(json.dumps(record, ensure_ascii=False), flush=True)


def use_color(stream=None) -> bool:
    """Highlight only on a terminal (and not with NO_COLOR set)."""
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")


def highlight(text: str, on: bool) -> str:
    """`text` in bold red when `on`."""
    return f"{_HIGHLIGHT}{text}{_RESET}" if on else text
