"""`electra-tf finetune`: fine-tune a pretrained model into a classifier, regressor, QA model or tagger.

Example:
    $ electra-tf finetune --task classification --glue cola --model runs/small \\
        --train CoLA/train.tsv --validation CoLA/dev.tsv --out models/cola
    $ electra-tf finetune --task qa --model runs/small --train train.json --validation dev.json \\
        --out models/squad --seq-length 384
    $ electra-tf finetune --task tagging --model runs/small --train ner/train.txt --validation ner/dev.txt \\
        --out models/ner --tag-column 3

Rerunning the same command after an interruption resumes from the newest checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys

TASK_CHOICES = ("classification", "regression", "qa", "tagging")


def column(value: str):
    """A column given on the command line: a 0-based index when it is a number, else a header name."""
    return int(value) if value.strip().lstrip("-").isdigit() else value


def labels_list(value: str) -> tuple[str, ...]:
    return tuple(label.strip() for label in value.split(",") if label.strip())


def add_reader_arguments(parser) -> None:
    """The flags that say how to read a task file (shared by finetune, evaluate and infer)."""
    group = parser.add_argument_group("reading the files")
    group.add_argument("--text-column", type=column, metavar="C",
                       help="classification/regression: column of the text, header name or 0-based index "
                       "(default 0; JSON Lines: a field name)")
    group.add_argument("--text-pair-column", type=column, metavar="C",
                       help="column of the second text of pair tasks (MNLI, MRPC, ...)")
    group.add_argument("--label-column", type=column, metavar="C", help="column of the label (default 1)")
    group.add_argument("--delimiter", metavar="D",
                       help="column separator (default: ',' for .csv, tab otherwise; CoNLL: any whitespace); "
                       "'\\t' is read as a tab")
    group.add_argument("--no-header", dest="header", action="store_false",
                       help="delimited files have no header row (columns are then 0-based indices)")
    group.add_argument("--tag-column", type=int, metavar="N",
                       help="tagging (CoNLL): 0-based column of the tag (default: the last)")
    group.add_argument("--glue", metavar="NAME",
                       help="GLUE preset (cola sst2 mrpc qqp stsb mnli qnli rte): columns, labels and metric")
    group.add_argument("--clue", metavar="NAME", help="CLUE preset (tnews afqmc chnsenticorp)")
    parser.set_defaults(header=True)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="fine-tune a pretrained model for classification, regression, QA or tagging",
        description="Fine-tune the discriminator of MODEL_DIR (a pretraining run or its final/, a `convert` "
        "output, a Hugging Face ELECTRA folder, a keras-hub preset, or a fine-tuned model) with the paper's "
        "recipe: AdamW, weight decay 0.01, 10%% warm-up then linear decay, layer-wise LR decay. Scores the "
        "validation file after each epoch, keeps the best epoch and writes OUT as a model directory that "
        "evaluate, export, infer and convert --to-hf read, with metrics.json, history.jsonl, "
        "validation_predictions.jsonl and TensorBoard logs. OUT appears only when the run ends; rerun the "
        "same command to resume an interrupted run.",
    )
    parser.add_argument("--task", required=True, choices=TASK_CHOICES)
    parser.add_argument("--model", required=True, metavar="MODEL_DIR", help="where the pretrained encoder comes from")
    parser.add_argument("--train", required=True, metavar="FILE",
                        help="training file: TSV/CSV or JSON Lines (classification, regression), SQuAD JSON (qa), "
                        "CoNLL columns (tagging)")
    parser.add_argument("--validation", metavar="FILE", help="validation file, scored each epoch (the best is kept)")
    parser.add_argument("--out", required=True, metavar="OUT_DIR", help="the fine-tuned model directory to write")
    add_reader_arguments(parser)
    parser.add_argument("--labels", type=labels_list, metavar="A,B,...",
                        help="class names (or tags) in id order (default: collected from --train, sorted)")
    parser.add_argument("--tag-scheme", choices=("IOB1", "IOB2", "BIOES"), help="tagging: the tags' scheme "
                        "for entity-level scores (default IOB2)")
    parser.add_argument("--metric", choices=("accuracy", "f1", "mcc"),
                        help="classification: the metric that picks the best epoch (default: the preset's, "
                        "else accuracy)")
    group = parser.add_argument_group("optimisation (defaults: ELECTRA's Table 7 for the model's size)")
    group.add_argument("--epochs", type=int, help="passes over --train (default 3; 10 for rte/stsb; 2 for qa)")
    group.add_argument("--batch-size", type=int, default=32, help="global batch size (default %(default)s)")
    group.add_argument("--learning-rate", type=float, help="peak learning rate (default 3e-4 small, 1e-4 base, "
                       "5e-5 large)")
    group.add_argument("--layerwise-lr-decay", type=float, help="per-layer LR factor (default 0.8; 0.9 large)")
    group.add_argument("--warmup-fraction", type=float, default=0.1, help="share of steps warming up "
                       "(default %(default)s)")
    group.add_argument("--weight-decay", type=float, default=0.01, help="AdamW decay (default %(default)s)")
    group = parser.add_argument_group("inputs")
    group.add_argument("--seq-length", type=int, help="packed length (default 128; qa 512)")
    group.add_argument("--doc-stride", type=int, default=128, help="qa: tokens between window starts "
                       "(default %(default)s)")
    group.add_argument("--max-query-length", type=int, default=64, help="qa: question tokens kept "
                       "(default %(default)s)")
    group.add_argument("--max-answer-length", type=int, default=30, help="qa: longest answer in tokens "
                       "(default %(default)s)")
    group = parser.add_argument_group("run")
    group.add_argument("--seed", type=int, default=42, help="seed of the head's init, dropout and data order "
                       "(default %(default)s)")
    group.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    group.add_argument("--strategy", choices=("auto", "default", "mirrored", "multiworker", "tpu"), default="auto")
    group.add_argument("--tpu", metavar="ADDRESS", help="TPU address for --strategy tpu")
    group.add_argument("--random-init", action="store_true",
                       help="use MODEL_DIR's architecture and vocabulary with fresh weights (the baseline)")
    group.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                       help="steps between mid-epoch checkpoints (default: ten per epoch; also at each epoch end)")
    group.add_argument("--log-every", type=int, default=10, help="steps between history lines (default %(default)s)")
    group.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    group.add_argument("--stop-after-steps", type=int, help=argparse.SUPPRESS)  # tests: stop as if killed
    parser.set_defaults(handler=run)


def unescape_delimiter(delimiter):
    if delimiter is None:
        return None
    return {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(delimiter, delimiter)


def options_from_args(args):
    from electra_tf.finetuning.options import FinetuneOptions

    return FinetuneOptions(
        task=args.task, model=args.model, train=args.train, out=args.out, validation=args.validation,
        text_column=args.text_column, text_pair_column=args.text_pair_column, label_column=args.label_column,
        delimiter=unescape_delimiter(args.delimiter), header=args.header, labels=args.labels,
        tag_column=args.tag_column, tag_scheme=args.tag_scheme, glue=args.glue, clue=args.clue, metric=args.metric,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        layerwise_lr_decay=args.layerwise_lr_decay, warmup_fraction=args.warmup_fraction,
        weight_decay=args.weight_decay, seq_length=args.seq_length, doc_stride=args.doc_stride,
        max_query_length=args.max_query_length, max_answer_length=args.max_answer_length, seed=args.seed,
        precision=args.precision, strategy=args.strategy, tpu=args.tpu, random_init=args.random_init,
        checkpoint_every=args.checkpoint_every, log_every=args.log_every, force=args.force,
        stop_after_steps=args.stop_after_steps,
    )


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)  # validates flags before TensorFlow loads
    from electra_tf.finetuning.training import Interrupted, run_finetuning

    try:
        result = run_finetuning(options)
    except Interrupted as stopped:
        print(f"electra-tf finetune: {stopped}; rerun the same command to resume", file=sys.stderr)
        return 130
    summary = {"out": result.out, "task": result.spec.task, "metric": result.metric, "best": result.best,
               "steps": result.steps, "seconds": round(result.seconds, 1)}
    print(json.dumps(summary))
    return 0
