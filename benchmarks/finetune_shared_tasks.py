"""Does pretraining help? Fine-tune a pretrained model and `--random-init` of the same size on ../shared/data.

The end-to-end evidence issue 9 asks for: for each task and each seed, `electra-tf finetune` is run twice as
a subprocess (so the command line is what is measured) — once from the pretrained model, once with
`--random-init` (the same config and vocabulary, fresh weights) — and the validation metric of the epoch the
command keeps (its `metrics.json` "best") is collected. Tasks:

- **cola** (English, `--model`): `tasks/cola/in_domain_train.tsv` → Matthews correlation on `in_domain_dev.tsv`
  (`--glue cola`).
- **chnsenticorp** (Chinese, `--zh-model`): `tasks/chnsenticorp/train.tsv` → accuracy on `dev.tsv`
  (`--clue chnsenticorp`).
- **xquad** (English, `--model`): `tasks/xquad/xquad.en.json` split **by article**, deterministically: article
  i (file order, 48 articles) goes to validation when `i % 4 == 3` (12 articles), else to train (36); no
  paragraph or question appears in both. SQuAD v1.1 exact match and F1 (0-100) on the validation articles.

Budget knobs: `--epochs`, `--seq-length` (classification), `--qa-seq-length`, `--max-train` (a fixed random
subset of the training examples, the same for every seed and both inits: shuffled with seed 0, first N kept),
`--max-validation`, `--batch-size`, `--learning-rate`. The subset and split files are written into `--work`.

`--model`/`--zh-model` take anything `electra-tf finetune --model` takes (a run directory, its final/, a
`convert` output, ...), and also a pretraining run still in progress: a run directory with no final/ but with
checkpoints/ is turned into a model directory from its newest checkpoint (written into `--work`; its step is
reported), so a long pretraining run can be measured before it ends.

Prints progress to stderr and, last on stdout, one JSON object: per task and init the metric's mean, sample
std, min, max and per-seed values (plus the last epoch's values), whether the pretrained mean is ahead, the
budget, the models (with their pretraining step), and the wall time.

Example:
    $ python benchmarks/finetune_shared_tasks.py --model runs/tiny_en --zh-model runs/tiny_zh --seeds 3 \\
          --epochs 2 --max-train 2000 --work /tmp/ft_bench
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
TASKS = ("cola", "chnsenticorp", "xquad")
QA_VALIDATION_EVERY = 4  # article i is validation when i % 4 == 3


def log(message: str) -> None:
    print(f"[finetune_shared_tasks {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- data files
def subset_lines(source: str, target: str, limit: int | None, seed: int = 0) -> int:
    """Copies `source` (a header-less TSV) to `target`, keeping a fixed random `limit` of its rows.

    Rows keep their original order; the choice depends only on `seed` (not on the fine-tuning seed).

    Returns: the number of rows written.
    """
    with open(source, encoding="utf-8", newline="") as f:
        lines = [line for line in f.read().splitlines(keepends=True) if line.strip()]
    if limit is not None and limit < len(lines):
        keep = sorted(random.Random(seed).sample(range(len(lines)), limit))
        lines = [lines[i] for i in keep]
    with open(target, "w", encoding="utf-8", newline="") as f:
        for line in lines:
            f.write(line if line.endswith("\n") else line + "\n")
    return len(lines)


def split_squad_by_article(source: str, train_file: str, validation_file: str,
                           max_train: int | None = None, max_validation: int | None = None, seed: int = 0) -> dict:
    """Writes SQuAD v1.1 train/validation files holding disjoint articles of `source`.

    Article i (file order) goes to validation when `i % QA_VALIDATION_EVERY == QA_VALIDATION_EVERY - 1`.
    `max_train`/`max_validation` keep a fixed random subset of the questions (seed `seed`), dropping
    paragraphs left without any.

    Returns: {"train_articles", "validation_articles", "train_questions", "validation_questions"}.
    """
    with open(source, encoding="utf-8") as f:
        squad = json.load(f)
    articles = squad["data"]
    parts = {"train": [], "validation": []}
    for i, article in enumerate(articles):
        part = "validation" if i % QA_VALIDATION_EVERY == QA_VALIDATION_EVERY - 1 else "train"
        parts[part].append(article)
    stats = {}
    for part, limit, path in (("train", max_train, train_file), ("validation", max_validation, validation_file)):
        chosen = parts[part]
        questions = [qa["id"] for a in chosen for p in a["paragraphs"] for qa in p["qas"]]
        keep = set(questions)
        if limit is not None and limit < len(questions):
            keep = set(random.Random(seed).sample(questions, limit))
        kept_articles = []
        for article in chosen:
            paragraphs = []
            for paragraph in article["paragraphs"]:
                qas = [qa for qa in paragraph["qas"] if qa["id"] in keep]
                if qas:
                    paragraphs.append({**paragraph, "qas": qas})
            if paragraphs:
                kept_articles.append({**article, "paragraphs": paragraphs})
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"version": squad.get("version", "1.1"), "data": kept_articles}, f, ensure_ascii=False)
        stats[f"{part}_articles"] = len(kept_articles)
        stats[f"{part}_questions"] = sum(len(p["qas"]) for a in kept_articles for p in a["paragraphs"])
    return stats


# ----------------------------------------------------------------------------------------------- models
def model_for_finetuning(path: str, work: str, name: str) -> tuple[str, dict]:
    """The folder to pass to `finetune --model`, and what is known about it (pretraining steps).

    A run directory without final/ but with checkpoints/ (a run still going) is written as a model
    directory from its newest checkpoint under `work`.
    """
    path = os.path.abspath(path.rstrip("/"))
    info = {"path": path}
    if os.path.isfile(os.path.join(path, "final", "config.json")):  # a finished run directory
        info["pretraining_steps"] = _last_train_step(os.path.join(path, "history.jsonl"))
        # its final/ explicitly: a run directory also holds a config.json (without weights) at its top
        return os.path.join(path, "final"), info
    if os.path.isdir(os.path.join(path, "checkpoints")):  # a run still going: its newest checkpoint
        out, step = _model_dir_from_checkpoint(path, os.path.join(work, f"model_{name}"))
        info["pretraining_steps"] = step
        info["from_checkpoint"] = True
        return out, info
    if os.path.isfile(os.path.join(path, "config.json")):  # a model directory (final/, convert, HF, ...)
        if os.path.basename(path) == "final":
            info["pretraining_steps"] = _last_train_step(os.path.join(os.path.dirname(path), "history.jsonl"))
        return path, info
    raise SystemExit(f"--model {path!r}: no config.json, final/ or checkpoints/ in it")


def _last_train_step(history: str):
    if not os.path.isfile(history):
        return None
    step = None
    with open(history, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if row.get("split") == "train":
                    step = row["step"]
    return step


def _model_dir_from_checkpoint(run_dir: str, out: str) -> tuple[str, int]:
    """Writes `out` as a model directory from the newest checkpoint of `run_dir` (a pretraining run)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    from electra_tf.model_dir import load_config, save_model_dir
    from electra_tf.models.pretrainer import ElectraPretrainer
    from electra_tf.optimization import create_optimizer
    from electra_tf.training.train_step import summed_gradients_optimizer

    latest = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if latest is None:
        raise SystemExit(f"{run_dir}/checkpoints holds no checkpoint yet")
    step = int(latest.rsplit("-", 1)[1])
    marker = os.path.join(out, "checkpoint_step.txt")
    if os.path.isfile(marker) and open(marker).read().strip() == str(step):
        return out, step
    config = load_config(run_dir)
    with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    vocab = run.get("vocab_file") or os.path.join(run["data_dir"], "vocab.txt")
    # The same objects as `pretrain` checkpoints (training/pretraining_run.py): Keras 3 layers are reachable
    # by tf.train only partly through the model, the rest through the optimizer's variable list, so the
    # optimizer must be built over the same variables for every weight to be restored.
    pretrainer = ElectraPretrainer(config, seed=0)
    pretrainer.compile(optimizer=summed_gradients_optimizer(create_optimizer(config)))
    pretrainer.optimizer.build(pretrainer.trainable_variables)
    dropout_streams = [v.value for v in pretrainer.variables if "seed_generator" in v.path]
    status = tf.train.Checkpoint(model=pretrainer, optimizer=pretrainer.optimizer,
                                 dropout_streams=dropout_streams).restore(latest)
    status.assert_existing_objects_matched()
    _check_restored(pretrainer, latest)
    save_model_dir(pretrainer, out, vocab_file=vocab, lowercase=bool(run.get("lowercase", True)))
    with open(marker, "w") as f:
        f.write(str(step))
    log(f"{run_dir}: newest checkpoint is step {step}; wrote it as model directory {out}")
    return out, step


def _check_restored(pretrainer, checkpoint: str) -> None:
    """Fails unless every trainable weight of `pretrainer` equals a tensor stored in `checkpoint`."""
    import numpy as np
    import tensorflow as tf

    reader = tf.train.load_checkpoint(checkpoint)
    stored = {}
    for key, shape in reader.get_variable_to_shape_map().items():
        if key != "_CHECKPOINTABLE_OBJECT_GRAPH" and "/.OPTIMIZER_SLOT/" not in key:
            stored.setdefault(tuple(shape), []).append(reader.get_tensor(key))
    missing = [w.path for w in pretrainer.trainable_weights
               if not any(np.array_equal(w.numpy(), t) for t in stored.get(tuple(w.shape), []))]
    if missing:
        raise SystemExit(f"{checkpoint}: {len(missing)} weights not restored, e.g. {missing[:3]}")


# ----------------------------------------------------------------------------------------------- runs
def finetune(cli: list[str], args, task: str, model: str, train: str, validation: str, out: str,
             seed: int, random_init: bool) -> dict:
    """Runs one `electra-tf finetune` (or reuses a finished OUT) and returns its metrics.json."""
    metrics_file = os.path.join(out, "metrics.json")
    if os.path.isfile(metrics_file) and not args.force:
        log(f"reusing {out}")
    else:
        command = cli + ["finetune", "--model", model, "--train", train, "--validation", validation, "--out", out,
                         "--seed", str(seed), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                         "--force"]
        if task == "cola":
            command += ["--task", "classification", "--glue", "cola", "--seq-length", str(args.seq_length)]
        elif task == "chnsenticorp":
            command += ["--task", "classification", "--clue", "chnsenticorp", "--seq-length", str(args.seq_length)]
        else:
            command += ["--task", "qa", "--seq-length", str(args.qa_seq_length), "--doc-stride",
                        str(args.doc_stride)]
        if args.learning_rate is not None:
            command += ["--learning-rate", str(args.learning_rate)]
        if random_init:
            command.append("--random-init")
        log(" ".join(command))
        start = time.monotonic()
        with open(out + ".log", "w", encoding="utf-8") as output:
            code = subprocess.call(command, stdout=output, stderr=subprocess.STDOUT)
        if code != 0:
            with open(out + ".log", encoding="utf-8") as f:
                tail = f.read()[-2000:]
            raise SystemExit(f"electra-tf finetune failed (exit {code}); log {out}.log:\n{tail}")
        log(f"done in {time.monotonic() - start:.0f}s")
    with open(metrics_file, encoding="utf-8") as f:
        return json.load(f)


def _logged_seconds(log_file: str) -> float:
    """The `seconds` of finetune's closing JSON line in its log (its own timing, also for reused runs)."""
    try:
        with open(log_file, encoding="utf-8") as f:
            last = [line for line in f.read().splitlines() if line.startswith("{")][-1]
        return float(json.loads(last)["seconds"])
    except (OSError, IndexError, KeyError, ValueError):
        return float("nan")


def summarise(values: list[float]) -> dict:
    return {
        "mean": round(statistics.fmean(values), 4) if values else None,
        "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
        "min": round(min(values), 4) if values else None,
        "max": round(max(values), 4) if values else None,
        "values": [round(v, 4) for v in values],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="English model (CoLA, XQuAD): run dir, final/, or a run in progress")
    parser.add_argument("--zh-model", help="Chinese model (ChnSentiCorp)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="the shared data folder (default %(default)s)")
    parser.add_argument("--work", required=True, help="folder for split/subset files and fine-tuned models")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of %(default)s")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per task and init")
    parser.add_argument("--inits", default="pretrained,random", help="pretrained and/or random (--random-init)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, help="default: finetune's per-size default")
    parser.add_argument("--seq-length", type=int, default=128, help="classification (default %(default)s)")
    parser.add_argument("--qa-seq-length", type=int, default=256, help="qa (default %(default)s)")
    parser.add_argument("--doc-stride", type=int, default=128)
    parser.add_argument("--max-train", type=int, help="training examples (questions for qa) kept per task")
    parser.add_argument("--max-validation", type=int, help="validation examples kept per task")
    parser.add_argument("--cli", default=f"{sys.executable} -m electra_tf",
                        help="how to run electra-tf (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rerun fine-tunings whose OUT already exists")
    parser.add_argument("--report", metavar="DIR", help="also run `electra-tf report` over the pretraining runs "
                        "and every fine-tuning (bars per task and init) into DIR")
    args = parser.parse_args(argv)

    started = time.monotonic()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        parser.error(f"--tasks: unknown {unknown}; known: {list(TASKS)}")
    inits = [i.strip() for i in args.inits.split(",") if i.strip()]
    os.makedirs(args.work, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cli = args.cli.split()
    tasks_dir = os.path.join(args.data, "tasks")

    models = {}
    if args.model:
        models["en"] = model_for_finetuning(args.model, args.work, "en")
    if args.zh_model:
        models["zh"] = model_for_finetuning(args.zh_model, args.work, "zh")

    files = {}
    data_stats = {}
    for task in tasks:
        language = "zh" if task == "chnsenticorp" else "en"
        if language not in models:
            log(f"skipping {task}: no {'--zh-model' if language == 'zh' else '--model'}")
            continue
        if task == "cola":
            source_train = os.path.join(tasks_dir, "cola", "in_domain_train.tsv")
            source_dev = os.path.join(tasks_dir, "cola", "in_domain_dev.tsv")
        elif task == "chnsenticorp":
            source_train = os.path.join(tasks_dir, "chnsenticorp", "train.tsv")
            source_dev = os.path.join(tasks_dir, "chnsenticorp", "dev.tsv")
        if task == "xquad":
            train = os.path.join(args.work, "xquad_en_train.json")
            validation = os.path.join(args.work, "xquad_en_validation.json")
            data_stats[task] = split_squad_by_article(os.path.join(tasks_dir, "xquad", "xquad.en.json"), train,
                                                      validation, args.max_train, args.max_validation)
        else:
            train = os.path.join(args.work, f"{task}_train.tsv")
            validation = os.path.join(args.work, f"{task}_validation.tsv")
            data_stats[task] = {"train_examples": subset_lines(source_train, train, args.max_train),
                                "validation_examples": subset_lines(source_dev, validation, args.max_validation)}
        files[task] = (language, train, validation)
        log(f"{task}: {data_stats[task]}")

    metric_names = {"cola": ["mcc"], "chnsenticorp": ["accuracy"], "xquad": ["exact_match", "f1"]}
    results = {}
    seconds = {}
    outs = []
    for task, (language, train, validation) in files.items():
        model_path = models[language][0]
        for init in inits:
            best = {name: [] for name in metric_names[task]}
            last = {name: [] for name in metric_names[task]}
            run_seconds = []
            for seed in range(args.seeds):
                out = os.path.join(args.work, f"{task}_{init}_seed{seed}")
                outs.append(out)
                report = finetune(cli, args, task, model_path, train, validation, out, seed, init == "random")
                run_seconds.append(_logged_seconds(out + ".log"))
                for name in metric_names[task]:
                    best[name].append(float(report["best"][name]))
                    last[name].append(float(report["epochs"][-1][name]))
                log(f"{task} {init} seed {seed}: " + ", ".join(f"{n} {v[-1]:.4f}" for n, v in best.items()))
            results.setdefault(task, {})[init] = {
                **{name: summarise(values) for name, values in best.items()},
                "last_epoch": {name: summarise(values) for name, values in last.items()},
            }
            seconds.setdefault(task, {})[init] = round(sum(run_seconds), 1)
        if {"pretrained", "random"} <= set(results[task]):
            main_metric = metric_names[task][-1]
            results[task]["pretrained_ahead"] = (results[task]["pretrained"][main_metric]["mean"]
                                                 > results[task]["random"][main_metric]["mean"])

    summary = {
        "results": results,
        "metric": "validation metric of the epoch finetune keeps (metrics.json best); last_epoch: the final epoch",
        "data": data_stats,
        "models": {language: info for language, (_, info) in models.items()},
        "budget": {"epochs": args.epochs, "batch_size": args.batch_size, "seq_length": args.seq_length,
                   "qa_seq_length": args.qa_seq_length, "doc_stride": args.doc_stride,
                   "max_train": args.max_train, "max_validation": args.max_validation,
                   "learning_rate": args.learning_rate, "seeds": list(range(args.seeds))},
        "finetune_seconds": seconds,  # summed over seeds, as each finetune reported (start-up excluded)
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    if args.report:
        runs = []
        for language, (_, info) in models.items():
            run_dir = info["path"][: -len("/final")] if info["path"].endswith("/final") else info["path"]
            if os.path.isfile(os.path.join(run_dir, "history.jsonl")):
                runs.append(f"{language.upper()}={run_dir}")
        command = cli + ["report", *runs, *outs, "--out", args.report, "--title",
                         "Fine-tuning from pretrained vs --random-init on ../shared/data"]
        log(" ".join(command))
        summary["report"] = args.report if subprocess.call(command, stdout=sys.stderr) == 0 else None
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
