"""`electra-tf export --model MODEL_DIR --out saved_models/NAME`: a SavedModel version for TF Serving.

Writes `saved_models/NAME/<version>/` (next free integer unless `--version`), atomically, with raw-text
signatures tokenized in the graph and their token-id twins. Prints the new version folder on stdout.

Example:
    $ electra-tf export --model runs/small/model --out saved_models/electra
    $ electra-tf export --model runs/small/model --out saved_models/electra-encoder --signatures encode
    $ electra-tf export --model runs/small/model --out saved_models/electra-fixed --fixed-length
"""

from __future__ import annotations

import argparse
import sys
import time

SIGNATURE_NAMES_HELP = (
    "replaced_token_detection, fill_mask, encode, encode_pair; a fine-tuned model: its task's classify, answer or "
    "tag first, then encode, encode_pair"
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a model directory as a TF Serving SavedModel version",
        description="Export a model directory (from `electra-tf pretrain`, `convert` or `finetune`) as "
        "OUT/<version>/, the layout TF Serving polls: raw-text signatures tokenized in the graph, a "
        "token-id twin of each (NAME_ids), the vocabulary and config as assets. Only ops TF Serving 2.12+ "
        "runs are used. An existing version is never overwritten.",
    )
    parser.add_argument("--model", required=True, metavar="MODEL_DIR|RUN_DIR",
                        help="model directory to export, or a pretraining run directory (its final/)")
    parser.add_argument("--out", required=True, metavar="BASE_DIR",
                        help="the model's base folder, e.g. saved_models/electra (versions go inside)")
    parser.add_argument("--version", type=int, default=None,
                        help="version number to write (default: one more than the highest present, 1 if none)")
    parser.add_argument("--seq-length", type=int, default=None,
                        help="length texts are packed and truncated to (default: the model's seq_length)")
    parser.add_argument("--signatures", nargs="+", default=None, metavar="NAME",
                        help=f"signatures to export, space- or comma-separated; the first is also "
                        f"serving_default (default: every one the model provides: {SIGNATURE_NAMES_HELP})")
    parser.add_argument("--bucket-size", type=int, default=16, metavar="N",
                        help="raw-text signatures pad a batch to its longest text rounded up to a multiple of N "
                        "tokens, at most --seq-length; 0 pads every batch to --seq-length (default: %(default)s)")
    parser.add_argument("--fixed-length", action="store_true",
                        help="pad every batch to --seq-length (the same as --bucket-size 0)")
    parser.add_argument("--top-k", type=int, default=10, help="candidates per [MASK] in fill_mask "
                        "(default: %(default)s)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from electra_tf.export import export_model_dir

    signatures = None
    if args.signatures is not None:
        signatures = [name for value in args.signatures for name in value.split(",") if name]
    start = time.monotonic()
    from electra_tf.model_dir import resolve_model_dir

    def log(line):
        print(f"electra-tf export: {line}", file=sys.stderr)

    model_dir = resolve_model_dir(args.model, announce=log)
    result = export_model_dir(
        model_dir,
        args.out,
        version=args.version,
        seq_length=args.seq_length,
        signatures=signatures,
        top_k=args.top_k,
        bucket_size=0 if args.fixed_length else args.bucket_size,
        log=lambda line: print(f"electra-tf export: {line}", file=sys.stderr),
    )
    print(
        f"electra-tf export: version {result.version}, seq_length {result.seq_length}, "
        f"{f'bucket_size {result.bucket_size}' if result.bucket_size else 'fixed length'}, signatures "
        f"{' '.join(result.signatures)} ({time.monotonic() - start:.1f}s)",
        file=sys.stderr,
    )
    print(result.path)
    return 0
