"""`electra-tf vocab CORPUS... --size N --out vocab.txt`: learn a WordPiece vocabulary from text.

Example:
    $ electra-tf vocab corpus/en/ --size 30522 --out vocab.txt
    $ electra-tf vocab corpus/zh/*.txt --size 21128 --out zh-vocab.txt --cased
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "vocab",
        help="learn a WordPiece vocabulary (vocab.txt) from a corpus",
        description="Learn a WordPiece vocabulary from text files, folders or globs (.txt, .gz), with the "
        "Tokenizer's own normalisation. [PAD] [UNK] [CLS] [SEP] [MASK] get ids 0-4; CJK characters and "
        "punctuation are single-character tokens.",
    )
    parser.add_argument("corpus", nargs="+", metavar="CORPUS", help="text files, folders or globs (.txt, .gz)")
    parser.add_argument("--size", type=int, default=30522, help="largest vocabulary size, reserved tokens "
                        "included (default: %(default)s)")
    parser.add_argument("--out", required=True, type=pathlib.Path, help="where to write vocab.txt")
    parser.add_argument("--cased", action="store_true", help="keep case and accents (default: lower-case and "
                        "strip accents, for an uncased model)")
    parser.add_argument("--strip-gutenberg", action="store_true", help="skip Project Gutenberg headers and "
                        "footers")
    parser.add_argument("--max-unique-chars", type=int, default=1000, help="alphabet limit for words other "
                        "than CJK characters and punctuation (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from electra_tf.errors import InputError

    if args.size <= 5:
        raise InputError(f"--size must be above 5 (the reserved tokens come first). Received: --size {args.size}")
    if args.out.exists() and not args.force:
        raise InputError(f"{str(args.out)!r} exists. Pass --force to overwrite it.")
    if args.out.is_dir():
        raise InputError(f"--out {str(args.out)!r} is a folder. Expected a file name such as vocab.txt.")

    from electra_tf.tokenization import Tokenizer
    from electra_tf.vocab_learning import learn_vocabulary, write_vocabulary

    start = time.monotonic()
    tokens = learn_vocabulary(
        [pathlib.Path(path) for path in args.corpus],
        vocab_size=args.size,
        lowercase=not args.cased,
        strip_gutenberg=args.strip_gutenberg,
        max_unique_chars=args.max_unique_chars,
        progress=True,
    )
    write_vocabulary(tokens, args.out)
    tokenizer = Tokenizer(args.out, lowercase=not args.cased)  # proves the file loads
    suffixes = sum(token.startswith("##") for token in tokens)
    print(
        f"wrote {args.out}: {tokenizer.vocab_size:,} tokens (asked for at most {args.size:,}; "
        f"{suffixes:,} '##' pieces), {'cased' if args.cased else 'uncased'}, "
        f"sha256 {tokenizer.vocab_hash[:12]}, {time.monotonic() - start:.1f}s",
        file=sys.stderr,
    )
    return 0
