"""The `electra-tf` command line: one subcommand per module in `electra_tf/cli/commands/`.

Each command module defines `add_parser(subparsers)`, which registers its parser and sets
`handler=run` through `parser.set_defaults`, and `run(args) -> int`. Heavy imports (TensorFlow) happen
inside `run`, so `electra-tf --help` stays fast.

TensorFlow's start-up lines (oneDNN, CUDA stubs, `cpu_feature_guard`, absl) are hidden unless `-v/--verbose`
is given (before or after the command name): its C++ libraries print some of them while loading, before any
log level applies, so the first `import tensorflow` runs with file descriptor 2 sent to a temporary file,
which is replayed only if the import fails.

Example:
    $ electra-tf prepare corpus/ --vocab vocab.txt --out data/
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import pkgutil
import sys
import tempfile

from electra_tf.cli import commands
from electra_tf.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="electra-tf",
        description="ELECTRA from raw text to a served model: vocabulary, examples, pretraining, fine-tuning, "
        "export and serving.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's start-up and log lines")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.add_parser(subparsers)
    for subparser in set(subparsers.choices.values()):  # `-v` after the command name too
        with contextlib.suppress(argparse.ArgumentError):
            subparser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                   help="show TensorFlow's start-up and log lines")
    return parser


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Runs the first `import tensorflow` with file descriptor 2 captured (see the module docstring)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec_module(module):
            with _captured_stderr_fd():
                exec_module(module)
            _quiet_python_logs()

        spec.loader.exec_module = quiet_exec_module
        return spec


@contextlib.contextmanager
def _captured_stderr_fd():
    """Sends fd 2 to a temporary file; replays it to stderr when the body raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            capture.seek(0)
            os.write(2, capture.read())
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _quiet_python_logs() -> None:
    """absl's and TensorFlow's Python loggers: errors only."""
    import logging

    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _configure_logging(verbose: bool) -> None:
    """Set before TensorFlow is imported: its C++ log level, and the quiet first import unless verbose.

    `-v` is passed on to the commands a pipeline (`electra-tf -v run`) starts, through `ELECTRA_TF_VERBOSE=1`.
    """
    if verbose or os.environ.get("ELECTRA_TF_VERBOSE") == "1":
        os.environ["ELECTRA_TF_VERBOSE"] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        return
    # 3: also the C++ error lines of start-up probes (`failed call to cuInit` on a machine without a GPU);
    # real failures still reach the user as Python exceptions.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


def main(argv: list[str] | None = None) -> int:
    """Runs one subcommand; bad input exits with status 2 and one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(getattr(args, "verbose", False))
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
