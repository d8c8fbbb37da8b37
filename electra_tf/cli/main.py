"""The `electra-tf` command line: one subcommand per module in `electra_tf/cli/commands/`.

Each command module defines `add_parser(subparsers)`, which registers its parser and sets
`handler=run` through `parser.set_defaults`, and `run(args) -> int`. Heavy imports (TensorFlow) happen
inside `run`, so `electra-tf --help` stays fast.

Example:
    $ electra-tf prepare corpus/ --vocab vocab.txt --out data/
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from electra_tf.cli import commands
from electra_tf.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="electra-tf",
        description="ELECTRA from raw text to a served model: vocabulary, examples, pretraining, fine-tuning, "
        "export and serving.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one subcommand; bad input exits with status 2 and one line on stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (InputError, FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError) as error:
        if os.environ.get("ELECTRA_TF_DEBUG"):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"electra-tf {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"electra-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
