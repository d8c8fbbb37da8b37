"""`electra-tf evaluate-pretraining`: a pretrained model's MLM and RTD metrics on held-out data or any text.

The metrics are those `pretrain` logs for its held-out split (`electra_tf.evaluation.pretraining_metrics`): MLM
loss and accuracy (over all chosen positions, and at the [MASK] positions only, next to the accuracy of always
predicting the most frequent token); RTD loss, accuracy, precision, recall and exact ROC-AUC over all non-pad
tokens; with fixed masks (`--seed`), so two runs on the same data give the same numbers. `--sampling-temperature`
replaces the temperature the generator's samples are drawn at (the model config's `sampling_temperature`, e.g. 3 in
the quickstart, 1 in the paper), which sets how often a sample differs from the original and so what the
discriminator is tested on. Progress goes to stderr; the last line on stdout is one JSON object, with the
`sampling_temperature` used.

Example:
    $ electra-tf evaluate-pretraining --model runs/small --data data/
    $ electra-tf evaluate-pretraining --model runs/small/final --data "The cat sat on the mat." "It purred."
    $ electra-tf evaluate-pretraining --model runs/small --file held_out.txt --batches 0
    $ electra-tf evaluate-pretraining --model runs/small --data data/ --sampling-temperature 1
"""

from __future__ import annotations

import json
import os
import sys
import time

SPLITS = ("validation", "train", "all")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate-pretraining",
        help="MLM/RTD loss, accuracy and RTD ROC-AUC of a pretrained model on held-out data or text",
        description="Evaluates a pretrained model (a model directory, or a run directory's final/) with fixed masks: "
        "MLM loss and accuracy, RTD loss, accuracy, precision, recall and ROC-AUC over all non-pad tokens. "
        "--data takes a folder written by `electra-tf prepare` (its held-out split by default) or texts, each "
        "one document; --file takes text files read like a corpus. Prints JSON as the last line of stdout.",
    )
    parser.add_argument("--model", required=True, metavar="MODEL_DIR|RUN_DIR",
                        help="model directory, or a pretraining run directory (its final/ is used)")
    parser.add_argument("--data", nargs="+", metavar="DIR|TEXT",
                        help="a prepared data folder, or one or more texts (each a document)")
    parser.add_argument("--file", nargs="+", metavar="F", help="text files, folders or globs to evaluate on")
    parser.add_argument("--split", default="validation", choices=SPLITS,
                        help="with a data folder: its held-out split (default), its training shards, or both")
    parser.add_argument("--batches", type=int, default=100, metavar="N",
                        help="evaluate at most N batches (default 100; 0: all)")
    parser.add_argument("--batch-size", type=int, metavar="B",
                        help="examples per batch (default: the model's training batch size, so that a run's held-out "
                        "numbers are reproduced; the masks of batch b depend on its examples)")
    parser.add_argument("--seq-length", type=int, metavar="L",
                        help="with text: tokens per example (default: the model's seq_length)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the evaluation masks and samples (and of example building for text; default 0)")
    parser.add_argument("--sampling-temperature", type=float, metavar="T",
                        help="temperature of the generator's samples (default: the model config's "
                        "sampling_temperature); the JSON states the one used")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from electra_tf.errors import InputError

    if bool(args.data) == bool(args.file):
        raise InputError("Give exactly one of --data DIR|TEXT... or --file F...")
    if args.batches < 0:
        raise InputError(f"--batches must be >= 0 (0: all), received {args.batches}.")
    if args.batch_size is not None and args.batch_size < 1:
        raise InputError(f"--batch-size must be >= 1, received {args.batch_size}.")
    temperature = getattr(args, "sampling_temperature", None)
    if temperature is not None and not temperature > 0:  # also rejects NaN
        raise InputError(f"--sampling-temperature must be a positive number, received {temperature}.")

    from electra_tf.model_dir import load_config, resolve_model_dir

    def log(line):
        print(f"electra-tf evaluate-pretraining: {line}", file=sys.stderr, flush=True)

    model_dir = resolve_model_dir(args.model, announce=log)
    if args.batch_size is None:
        args.batch_size = load_config(model_dir).batch_size
    start = time.monotonic()
    data_dir = args.data[0] if args.data and len(args.data) == 1 and os.path.isdir(args.data[0]) else None
    if data_dir is not None:
        pretrainer, dataset, source = _prepared_source(model_dir, data_dir, args)
    else:
        pretrainer, dataset, source = _text_source(model_dir, args)

    from electra_tf.evaluation.pretraining_metrics import evaluate_pretraining

    metrics = evaluate_pretraining(pretrainer, dataset, seed=args.seed, max_batches=args.batches or None)
    seconds = time.monotonic() - start
    log(
        f"{int(metrics['examples']):,} examples in {seconds:.1f} s: mlm_accuracy {metrics['mlm_accuracy']:.4f}, "
        f"at [MASK] {metrics['mlm_accuracy_at_mask']:.4f} (unigram {metrics['unigram_accuracy_at_mask']:.4f})"
        + (f", rtd_auc {metrics['rtd_auc']:.4f}" if "rtd_auc" in metrics else "")
    )
    result = {"model": model_dir, **source, "seed": args.seed, "batch_size": args.batch_size,
              "objective": pretrainer.config.objective,
              "sampling_temperature": pretrainer.config.sampling_temperature,
              "model_sampling_temperature": load_config(model_dir).sampling_temperature,
              **{name: (value if value == value else None) for name, value in metrics.items()}}
    print(json.dumps(result))
    return 0


def _load(model_dir, seq_length, sampling_temperature=None):
    """The model directory's pretrainer (at `seq_length`, sampling at `sampling_temperature` if given) and tokenizer."""
    import dataclasses

    from electra_tf.errors import InputError
    from electra_tf.model_dir import WEIGHTS_FILE, load_config, load_tokenizer
    from electra_tf.models.pretrainer import ElectraPretrainer

    config = load_config(model_dir)
    weights = os.path.join(model_dir, WEIGHTS_FILE)
    if not os.path.isfile(weights):
        raise InputError(f"{model_dir!r} has no {WEIGHTS_FILE}: evaluate-pretraining needs a pretrained model "
                         "directory (`electra-tf pretrain` or `convert` output), not a fine-tuned one.")
    tokenizer = load_tokenizer(model_dir)
    if tokenizer is None:
        raise InputError(f"Model directory {model_dir!r} has no vocab.txt; evaluation needs the model's vocabulary.")
    if seq_length and seq_length != config.seq_length:
        if seq_length > config.max_position_embeddings:
            raise InputError(f"Sequence length {seq_length} is longer than the model's max_position_embeddings "
                             f"{config.max_position_embeddings}.")
        config = dataclasses.replace(config, seq_length=int(seq_length))
    if sampling_temperature is not None:
        config = dataclasses.replace(config, sampling_temperature=float(sampling_temperature))
    pretrainer = ElectraPretrainer(config)
    pretrainer.load_weights(weights)
    return pretrainer, tokenizer


def _prepared_source(model_dir, data_dir, args):
    from electra_tf.data.manifest import read_manifest
    from electra_tf.model_dir import VOCAB_FILE

    manifest = read_manifest(data_dir)
    manifest.check_vocab(os.path.join(model_dir, VOCAB_FILE))
    pretrainer, _ = _load(model_dir, manifest.seq_length, getattr(args, "sampling_temperature", None))
    from electra_tf.data.pipeline import pretraining_dataset, validation_dataset

    parts = []
    if args.split in ("validation", "all"):
        if args.split == "validation" or manifest.num_validation_examples:
            parts.append(validation_dataset(data_dir, args.batch_size, manifest=manifest))
    if args.split in ("train", "all"):
        parts.append(pretraining_dataset(data_dir, args.batch_size, shuffle=False, repeat=False, manifest=manifest))
    dataset = parts[0] if len(parts) == 1 else parts[0].concatenate(parts[1])
    return pretrainer, dataset, {"data": os.path.abspath(data_dir), "split": args.split}


def _text_source(model_dir, args):
    from electra_tf.evaluation.held_out_text import batches_from_features, examples_from_documents, examples_from_files
    from electra_tf.model_dir import load_config

    seq_length = args.seq_length or load_config(model_dir).seq_length
    pretrainer, tokenizer = _load(model_dir, seq_length, getattr(args, "sampling_temperature", None))
    if args.file:
        features = examples_from_files(args.file, tokenizer, seq_length, seed=args.seed)
        source = {"files": [os.path.abspath(path) for path in args.file]}
    else:
        features = examples_from_documents(args.data, tokenizer, seq_length, seed=args.seed)
        source = {"texts": len(args.data)}
    return pretrainer, batches_from_features(features, args.batch_size), {**source, "seq_length": seq_length}
