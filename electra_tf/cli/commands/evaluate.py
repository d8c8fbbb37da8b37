"""`electra-tf evaluate`: score a fine-tuned model directory on a labelled file with the task's official metrics.

Prints one line per metric, then, as the LAST stdout line, one JSON object of them (`accuracy`, `f1`, `mcc`,
`pearson`, `spearman` for classification/regression; `exact_match`, `f1` in 0-100 for QA; `precision`,
`recall`, `f1` for tagging).

Example:
    $ electra-tf evaluate --model models/cola --data CoLA/dev.tsv
    mcc 0.4123
    accuracy 0.7900
    {"mcc": 0.4123, "accuracy": 0.79, "examples": 1043}
"""

from __future__ import annotations

import argparse
import json
import math

from electra_tf.cli.commands.finetune import add_reader_arguments, labels_list, unescape_delimiter


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a fine-tuned model on a labelled file (accuracy/F1/MCC/correlations, SQuAD/CMRC, entities)",
        description="Run a fine-tuned model directory (from `electra-tf finetune`) on FILE and print the "
        "task's metrics, the last stdout line being one JSON object. The file is read as in training "
        "(the columns and preset are stored in the model directory); reader flags override them.",
    )
    parser.add_argument("--model", required=True, metavar="MODEL_DIR", help="fine-tuned model directory")
    parser.add_argument("--data", required=True, metavar="FILE", help="labelled file to score")
    add_reader_arguments(parser)
    parser.add_argument("--labels", type=labels_list, metavar="A,B,...",
                        help="check that the model's labels are these, in this order")
    parser.add_argument("--predictions", metavar="FILE",
                        help="also write the predictions (JSON Lines for .jsonl, else a JSON array)")
    parser.add_argument("--batch-size", type=int, default=64, help="inference batch size (default %(default)s)")
    parser.add_argument("--seq-length", type=int, help="packed length (default: the training length)")
    parser.set_defaults(handler=run)


def reader_overrides(args):
    from electra_tf.errors import InputError
    from electra_tf.finetuning.task_data import ReaderSettings

    if getattr(args, "glue", None) and getattr(args, "clue", None):
        raise InputError("Give --glue or --clue, not both.")
    return ReaderSettings(
        text_column=args.text_column, text_pair_column=args.text_pair_column, label_column=args.label_column,
        delimiter=unescape_delimiter(args.delimiter), header=args.header, tag_column=args.tag_column,
        benchmark="glue" if args.glue else "clue" if args.clue else None, preset=args.glue or args.clue,
    )


def run(args: argparse.Namespace) -> int:
    from electra_tf.errors import InputError
    from electra_tf.finetuning.inference import TaskRunner, write_records

    if args.batch_size < 1:
        raise InputError(f"Expected --batch-size to be a positive integer. Received: {args.batch_size}")
    overrides = reader_overrides(args)
    runner = TaskRunner.from_model_dir(args.model, batch_size=args.batch_size, seq_length=args.seq_length)
    runner.check_labels(args.labels)
    metrics, predictions = runner.evaluate(args.data, overrides)
    if args.predictions:
        write_records(args.predictions, predictions)
    shown = {name: (None if isinstance(value, float) and not math.isfinite(value) else value)
             for name, value in metrics.items()}
    for name, value in shown.items():
        print(f"{name} {value:.4f}" if isinstance(value, float) else f"{name} {value}")
    shown.setdefault("examples", len(predictions))
    print(json.dumps(shown))
    return 0
