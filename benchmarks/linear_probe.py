#!/usr/bin/env python3
"""Linear probe: does a pretrained encoder carry a classification task's signal before any fine-tuning?

Fine-tuning mixes two questions — what pretraining learned, and how well fine-tuning uses it. This answers
the first alone: each encoder is frozen, every example becomes two fixed vectors (the final hidden state at
`[CLS]`, and the mean over its real tokens), and a ridge-regression classifier (one-vs-rest least squares on
standardised features, closed form, `--l2`) is fitted on the first N training examples of a fixed shuffle
and scored on the validation file. `--random-init` adds the first model's architecture and vocabulary with
fresh weights (seed `--seed`): the baseline, as in `electra-tf finetune --random-init`.

Reads tasks the way `electra-tf finetune` does (`--glue NAME` / `--clue NAME` presets, or `--text-column`,
`--label-column`, `--no-header` for other delimited files). Prints progress to stderr and, last on stdout, one
JSON object: per encoder, pooling and training size, the validation accuracy (and the preset's metric).

Example (the ChnSentiCorp figures in benchmarks/results/pretrained_vs_random_chnsenticorp/):
    $ python benchmarks/linear_probe.py --model work_rtd_vs_mlm/run_mlm/final --random-init \\
          --clue chnsenticorp --train ../shared/data/tasks/chnsenticorp/train.tsv \\
          --validation ../shared/data/tasks/chnsenticorp/dev.tsv --max-train 1000 9600
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def log(message: str) -> None:
    print(f"[linear_probe {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pooled_features(encoder, inputs: dict, batch_size: int = 64) -> dict[str, np.ndarray]:
    """Frozen final hidden states pooled two ways: {"cls": [N, H], "mean": [N, H]} (mean over input_mask)."""
    cls, mean = [], []
    for start in range(0, len(inputs["input_word_ids"]), batch_size):
        batch = {name: value[start:start + batch_size] for name, value in inputs.items()}
        hidden = np.asarray(encoder(batch, training=False), np.float64)
        mask = batch["input_mask"][..., None].astype(np.float64)
        cls.append(hidden[:, 0])
        mean.append((hidden * mask).sum(1) / mask.sum(1))
    return {"cls": np.concatenate(cls), "mean": np.concatenate(mean)}


def ridge_classifier(features: np.ndarray, labels: np.ndarray, num_labels: int, l2: float):
    """Fits one-vs-rest least squares (targets ±1) on standardised features; returns predict(features)."""
    center, scale = features.mean(0), features.std(0) + 1e-8
    x = np.hstack([(features - center) / scale, np.ones((len(features), 1))])
    targets = -np.ones((len(labels), num_labels))
    targets[np.arange(len(labels)), labels] = 1.0
    penalty = l2 * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not penalised
    weights = np.linalg.solve(x.T @ x + penalty, x.T @ targets)

    def predict(new_features: np.ndarray) -> np.ndarray:
        new_x = np.hstack([(new_features - center) / scale, np.ones((len(new_features), 1))])
        return (new_x @ weights).argmax(-1)

    return predict


def main(argv=None) -> int:
    from electra_tf.cli.commands.finetune import column

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True,
                        help="a model directory (anything `finetune --model` takes); repeat for several")
    parser.add_argument("--random-init", action="store_true", help="also probe the first model's architecture "
                        "with fresh weights")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fresh weights (default %(default)s)")
    parser.add_argument("--train", required=True)
    parser.add_argument("--validation", required=True)
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--glue", metavar="NAME")
    preset.add_argument("--clue", metavar="NAME")
    parser.add_argument("--text-column", type=column, default=None, help="header name or 0-based index")
    parser.add_argument("--label-column", type=column, default=None, help="header name or 0-based index")
    parser.add_argument("--no-header", action="store_true")
    parser.add_argument("--max-train", type=int, nargs="+", help="training sizes (first N of a seed-0 shuffle; "
                        "default: all)")
    parser.add_argument("--seq-length", type=int, default=128)
    parser.add_argument("--l2", type=float, default=1.0, help="ridge penalty on standardised features")
    args = parser.parse_args(argv)

    import keras

    from electra_tf.errors import InputError
    from electra_tf.finetuning.readers import collect_labels
    from electra_tf.finetuning.task_data import ClassificationData, ReaderSettings, read_examples
    from electra_tf.finetuning.task_model_dir import TaskSpec, build_task_model, encoder_source, task_config
    from electra_tf.metrics.classification import classification_metrics
    from electra_tf.tokenization import Tokenizer

    benchmark, name = ("glue", args.glue) if args.glue else ("clue", args.clue) if args.clue else (None, None)
    reader = ReaderSettings(text_column=args.text_column, label_column=args.label_column,
                            header=not args.no_header, benchmark=benchmark, preset=name)
    metric = "accuracy"
    if name:
        from electra_tf.finetuning.task_presets import get_preset

        metric = get_preset(benchmark, name).metric
    try:
        train_examples = read_examples("classification", args.train, reader)
        validation_examples = read_examples("classification", args.validation, reader)
        sources = [(path, encoder_source(path)) for path in args.model]
        for path, source in sources:
            if source.vocab_file is None:
                raise InputError(f"--model {path!r} has no vocabulary (vocab.txt); the probe needs one to tokenize.")
    except InputError as error:
        print(f"linear_probe: {error}", file=sys.stderr)
        return 2
    labels = tuple(collect_labels(train_examples))
    order = np.random.default_rng(0).permutation(len(train_examples))
    sizes = sorted(set(min(n, len(order)) for n in (args.max_train or [len(order)])))

    spec = TaskSpec(task="classification", labels=labels, seq_length=args.seq_length)
    encoders = [(path, source.encoder, source) for path, source in sources]
    if args.random_init:  # as `finetune --random-init` builds it: the first source's architecture, fresh weights
        first = sources[0][1]
        keras.utils.set_random_seed(args.seed)
        fresh = build_task_model(task_config(first.config, spec), spec)
        encoders.append((f"random-init of {args.model[0]}", fresh.encoder, first))

    tokenized = {}  # (vocabulary, lowercase) -> (train, validation): encoders sharing a vocabulary tokenize once

    def task_data(source):
        key = (os.path.realpath(source.vocab_file), source.lowercase)
        if key not in tokenized:
            tokenizer = Tokenizer(source.vocab_file, lowercase=source.lowercase)
            tokenized[key] = (
                ClassificationData(spec, [train_examples[i] for i in order[:sizes[-1]]], tokenizer, metric),
                ClassificationData(spec, validation_examples, tokenizer, metric),
            )
        return tokenized[key]

    results = []
    for description, encoder, source in encoders:
        train, validation = task_data(source)
        start = time.perf_counter()
        train_features = pooled_features(encoder, train.inputs())
        validation_features = pooled_features(encoder, validation.inputs())
        log(f"{description}: features of {len(train)} + {len(validation)} examples in "
            f"{time.perf_counter() - start:.0f} s")
        for pooling in ("cls", "mean"):
            for size in sizes:
                predict = ridge_classifier(train_features[pooling][:size], train.targets()[:size], len(labels),
                                           args.l2)
                scores = classification_metrics(metric, predict(validation_features[pooling]),
                                                validation.targets())
                scores = {key: round(float(value), 4) for key, value in scores.items()}
                results.append({"encoder": description, "pooling": pooling, "train_examples": size, **scores})
                log(f"{description} {pooling} n={size}: {scores}")
    print(json.dumps({"benchmark": "linear_probe", "train": args.train, "validation": args.validation,
                      "labels": list(labels), "metric": metric, "l2": args.l2, "seq_length": args.seq_length,
                      "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
