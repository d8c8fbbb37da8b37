"""`run_finetuning`: fine-tune a pretrained encoder into a task model with `model.fit`, resumable, atomic output.

The reference's recipe (Clark et al., 2020, Appendix A; google-research/electra `run_finetuning.py`):
`ElectraAdamW` (no bias correction, weight decay 0.01 except LayerNorm and biases), global-norm clipping 1.0,
linear warm-up over 10% of the steps then linear decay to 0, layer-wise learning-rate decay (embeddings get
`decay ** (layers + 2)`, block i `decay ** (layers + 1 - i)`, the head the full rate), dropout 0.1.

What a run writes (all inside a staging folder `.OUT.partial` beside OUT, renamed to OUT when the run ends, so
OUT is never half-written; bad input is rejected before the staging folder exists):

    OUT/config.json, task.json, task_model.weights.h5, vocab.txt, tokenizer.json   the model directory
    OUT/metrics.json               {"task", "metric", "epochs": [{"epoch", "step", metrics...}], "best": {...}}
    OUT/history.jsonl              one line per logged step, split "train" / "validation" (as pretraining's)
    OUT/validation_predictions.jsonl   the best epoch's predictions on the validation file
    OUT/logs/train, logs/validation    TensorBoard scalars

Resume: the staging folder holds `checkpoints/` (model, optimizer, dropout streams) every `checkpoint_every`
steps and at each epoch's end, and `state.json` (epochs scored so far, the best). Running the same command
again after a kill restores the newest checkpoint and continues from that step with the same data order
(each epoch's shuffle is seeded by `seed` and the epoch), so it ends with the weights an uninterrupted run
gets. A different command (other options) starts over.

Example:
>>> options = FinetuneOptions(task="classification", model="runs/small", train="train.tsv",
...                           validation="dev.tsv", out="models/sst2")  # doctest: +SKIP
>>> result = run_finetuning(options)  # doctest: +SKIP
>>> result.best["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import sys
import time

import keras
import numpy as np

from electra_tf.data.short_lived import batched_arrays, for_short_lived_iterator
from electra_tf.errors import InputError
from electra_tf.finetuning.options import FinetuneOptions
from electra_tf.finetuning.task_data import READER_KEY, ReaderSettings, build_task_data, collect_task_labels, read_examples
from electra_tf.finetuning.task_model_dir import TaskSpec, write_task_files
from electra_tf.model_dir import replace_dir

STATE_FILE = "state.json"
OPTIONS_FILE = "options.json"
CHECKPOINT_FOLDER = "checkpoints"
METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "validation_predictions.jsonl"
BEST_WEIGHTS_FILE = "best.weights.h5"
CHECKPOINTS_PER_EPOCH = 10  # default mid-epoch checkpoints


class Interrupted(Exception):
    """Raised by the test hook `stop_after_steps`: the run stops as if killed (its checkpoints stay)."""


@dataclasses.dataclass
class FinetuneResult:
    """What a finished run reports."""

    out: str
    spec: TaskSpec
    epochs: list  # per epoch: {"epoch", "step", metrics...}
    best: dict  # the kept epoch's entry ({} without validation data)
    metric: str  # the metric that chose the best epoch
    train_examples: int
    steps: int
    seconds: float


def staging_path(out) -> str:
    """The fixed staging folder of OUT (`.NAME.partial` beside it), found again by a resumed run."""
    out = os.path.abspath(os.fspath(out))
    return os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.partial")


def reader_settings(options: FinetuneOptions) -> ReaderSettings:
    return ReaderSettings(
        text_column=options.text_column, text_pair_column=options.text_pair_column,
        label_column=options.label_column, delimiter=options.delimiter, header=options.header,
        tag_column=options.tag_column, benchmark="glue" if options.glue else "clue" if options.clue else None,
        preset=options.preset_name,
    )


def layerwise_multipliers(model, decay: float) -> dict:
    """Regular expressions over variable paths -> LR multipliers (`optimization.layerwise_learning_rate_multipliers`)."""
    from electra_tf.optimization import layerwise_learning_rate_multipliers

    return layerwise_learning_rate_multipliers(model.config.num_layers, decay)


def create_finetuning_optimizer(model, options: FinetuneOptions, total_steps: int):
    """ElectraAdamW + clipping + warm-up/linear decay + layer-wise multipliers for `model`."""
    from electra_tf.optimization import ElectraAdamW, LinearWarmupLinearDecay

    warmup = int(options.warmup_fraction * total_steps)
    schedule = LinearWarmupLinearDecay(options.learning_rate, warmup, total_steps)
    return ElectraAdamW(
        schedule, weight_decay=options.weight_decay, global_clipnorm=options.clip_norm,
        learning_rate_multipliers=layerwise_multipliers(model, options.layerwise_lr_decay),
    )


def epoch_order(num_examples: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled example order of one epoch: a function of (seed, epoch) only, so resuming repeats it."""
    return np.random.default_rng([seed, epoch]).permutation(num_examples)


def run_finetuning(options: FinetuneOptions, log=None) -> FinetuneResult:
    """Runs (or resumes) a fine-tuning run; see the module docstring.

    Args:
        options: FinetuneOptions.
        log: callable taking one line (default: stderr).

    Raises:
        InputError: bad files, flags or model folder; nothing is written then.
        Interrupted: the `stop_after_steps` test hook fired.
    """
    from electra_tf import distribute

    log = log or (lambda line: print(f"finetune: {line}", file=sys.stderr, flush=True))
    start_time = time.monotonic()
    out = os.path.abspath(options.out)
    if os.path.isfile(out):
        raise InputError(f"--out {options.out!r} is a file. Expected a folder path.")
    if os.path.isdir(out) and os.listdir(out) and not options.force:
        raise InputError(f"--out {options.out!r} exists and is not empty. Pass --force to replace it.")
    if options.validation is None:
        log("no --validation file: the last epoch is kept")
    strategy = distribute.resolve_strategy(options.strategy, tpu=options.tpu)  # before any other TF op

    # --- Read and check everything before writing anything (the files first: they fail fastest) ---
    from electra_tf.finetuning.task_model_dir import encoder_source, task_config
    from electra_tf.tokenization import Tokenizer

    reader = reader_settings(options)
    spec, train_examples, validation_examples = _read_examples(options, reader, log)
    source = encoder_source(options.model)
    if source.vocab_file is None:
        raise InputError(f"--model {options.model!r} has no vocabulary (vocab.txt); fine-tuning needs one.")
    options = options.resolved(source.config)
    spec = spec.replace(seq_length=options.seq_length)
    config = task_config(source.config, spec)
    tokenizer = Tokenizer(source.vocab_file, lowercase=source.lowercase)
    spec, train_data, validation_data = _build_data(spec, reader, tokenizer, train_examples, validation_examples,
                                                    options)
    log(f"{source.kind} {source.path}: {config.num_layers} layers x {config.hidden_size}, "
        f"{'fresh weights (--random-init)' if options.random_init else 'pretrained encoder'}; "
        f"{len(train_data)} training {'windows' if spec.task in ('qa', 'tagging') else 'examples'}"
        + (f", {len(validation_data)} validation" if validation_data is not None else ""))

    staging = staging_path(out)
    chief = distribute.is_chief(strategy)
    if not chief:  # multi-worker: only the chief writes OUT; the others write a private copy, then drop it
        staging += f".{distribute.worker_id(strategy)}"
    fingerprint = options.fingerprint()
    _prepare_staging(staging, fingerprint, log)

    # --- Model, optimizer, checkpoint ---
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(options.dtype_policy)
    try:
        keras.utils.set_random_seed(options.seed)
        static_batches = distribute.needs_static_shapes(strategy)
        steps_per_epoch = _steps_per_epoch(len(train_data), options.batch_size, static_batches, log)
        total_steps = steps_per_epoch * options.epochs
        with strategy.scope():
            from electra_tf.finetuning.task_model_dir import build_task_model

            model = build_task_model(config, spec)
            if not options.random_init:
                model.load_encoder_weights(source.encoder)
            optimizer = create_finetuning_optimizer(model, options, total_steps)
            model.compile(optimizer=optimizer)
            optimizer.build(model.trainable_variables)
        del source  # the pretrained network is no longer needed
        trainer = _EpochTrainer(model, optimizer, options, spec, train_data, validation_data, staging,
                                steps_per_epoch, total_steps, log, static_batches=static_batches)
        trainer.run()
        result = trainer.finish(tokenizer, reader, out if chief else None, start_time)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return result


def _steps_per_epoch(examples: int, batch_size: int, static_batches: bool, log) -> int:
    """Optimizer steps per epoch: every example once, or only full batches where shapes must be static (TPU).

    A TPU compiles one program per input shape, so there the last partial batch of an epoch is dropped (each
    epoch draws a new order, so no example is always left out) and the count is logged.
    """
    if not static_batches:
        return math.ceil(examples / batch_size)
    if examples < batch_size:
        raise InputError(f"{examples} training examples, fewer than --batch-size {batch_size}: this strategy "
                         "needs full batches (static shapes). Expected a --batch-size of at most "
                         f"{examples}.")
    dropped = examples % batch_size
    if dropped:
        log(f"static shapes: the last {dropped} of {examples} examples in each epoch's order are left out "
            f"(full batches of {batch_size} only; each epoch draws a new order)")
    return examples // batch_size


def _read_examples(options, reader, log):
    """Reads train (and validation) files and settles the labels; raises InputError on bad input.

    Returns: `(spec, train_examples, validation_examples)`; the spec's `seq_length` is set later.
    """
    task = options.task
    labels = tuple(options.labels) if options.labels is not None else None
    preset = None
    if options.preset_name:
        from electra_tf.finetuning.task_presets import get_preset

        preset = get_preset(reader.benchmark, reader.preset)
        if preset.task != task:
            raise InputError(f"The {preset.name} preset is a {preset.task} task; --task is {task!r}.")
        if labels is None and preset.labels is not None:
            labels = tuple(preset.labels)
    if task == "regression" and labels:
        raise InputError("--labels does not apply to regression.")
    train_examples = read_examples(task, options.train, reader, labels=labels)
    if task == "qa":
        log(f"{options.train}: {train_examples.answer_check.summary()}")
    if labels is None and task in ("classification", "tagging"):
        labels = collect_task_labels(task, train_examples)
        if task == "classification" and len(labels) < 2:
            raise InputError(f"{options.train}: only one label ({', '.join(labels)}); classification needs two "
                             "(or pass --labels).")
        log(f"labels collected from {options.train}: {', '.join(labels)}")
    validation_examples = None
    if options.validation is not None:
        validation_examples = read_examples(task, options.validation, reader, labels=labels)
        if task == "qa":
            log(f"{options.validation}: {validation_examples.answer_check.summary()}")
    extra = {READER_KEY: reader.to_dict()}
    metric = options.metric or (preset.metric if preset is not None else None)
    if metric is not None:
        extra["metric"] = metric
    version_2 = False
    if task == "qa":
        version_2 = bool(train_examples.version_2_with_negative or
                         (validation_examples is not None and validation_examples.version_2_with_negative))
    spec = TaskSpec(
        task=task, labels=labels or (), seq_length=options.seq_length or 128,
        doc_stride=options.doc_stride if task == "qa" else None,
        max_query_length=options.max_query_length if task == "qa" else None,
        max_answer_length=options.max_answer_length if task == "qa" else None,
        version_2_with_negative=version_2,
        tag_scheme=(options.tag_scheme or "IOB2") if task == "tagging" else None,
        extra=extra,
    )
    return spec, train_examples, validation_examples


def _build_data(spec, reader, tokenizer, train_examples, validation_examples, options):
    """Features of both splits (QA records the metric it chose in the spec's reader settings)."""
    train_data = build_task_data(spec, train_examples, tokenizer, reader)
    if train_data.targets() is None:
        raise InputError(f"{options.train} has no labels to train on.")
    validation_data = None
    if validation_examples is not None:
        validation_data = build_task_data(spec, validation_examples, tokenizer, reader)
    if spec.task == "qa" and reader.qa_metric is None:
        spec = spec.replace(extra={**spec.extra, READER_KEY: {**reader.to_dict(), "qa_metric": train_data.metric}})
        train_data.spec = spec
        if validation_data is not None:
            validation_data.spec = spec
    return spec, train_data, validation_data


def _prepare_staging(staging, fingerprint, log):
    """Creates the staging folder, or keeps one left by the same command (resume); replaces another's."""
    options_path = os.path.join(staging, OPTIONS_FILE)
    if os.path.isdir(staging):
        try:
            with open(options_path, encoding="utf-8") as f:
                previous = json.load(f)
        except (OSError, json.JSONDecodeError):
            previous = None
        if previous == json.loads(json.dumps(fingerprint)):
            return
        log(f"{staging} holds an interrupted run with other settings; starting over")
        shutil.rmtree(staging)
    os.makedirs(staging)
    with open(options_path, "w", encoding="utf-8") as f:
        json.dump(fingerprint, f, indent=2)


class _EpochTrainer:
    """The epoch loop: `fit` one epoch (or its rest), score validation, keep the best, checkpoint."""

    def __init__(self, model, optimizer, options, spec, train_data, validation_data, staging, steps_per_epoch,
                 total_steps, log, static_batches=False):
        import tensorflow as tf

        from electra_tf.training.history import HistoryWriter
        from electra_tf.training.progress import ProgressDisplay

        self.model, self.optimizer, self.options, self.spec = model, optimizer, options, spec
        self.train_data, self.validation_data = train_data, validation_data
        self.staging, self.steps_per_epoch, self.total_steps, self.log = staging, steps_per_epoch, total_steps, log
        self.static_batches = static_batches
        self.checkpoint_every = options.checkpoint_every or max(1, steps_per_epoch // CHECKPOINTS_PER_EPOCH)
        dropout_streams = [v.value for v in model.variables if "seed_generator" in v.path]
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, dropout_streams=dropout_streams)
        from electra_tf.training.checkpoints import RunCheckpoints

        self.checkpoints = RunCheckpoints(self.checkpoint, os.path.join(staging, CHECKPOINT_FOLDER), keep=2,
                                          warn=lambda message: log(f"warning: {message}"))
        restored = self.checkpoints.restore_latest()
        self.step = restored or 0
        self.state = self._read_state(self.step)
        if restored:
            log(f"resuming {staging} at step {self.step}/{total_steps}")
        self.history = HistoryWriter(os.path.join(staging, "history.jsonl"), resume_step=self.step)
        self.writers = {split: tf.summary.create_file_writer(os.path.join(staging, "logs", split))
                        for split in ("train", "validation")}
        self.progress = ProgressDisplay(total_steps, self.step, options.batch_size, options.log_every)
        self.steps_this_process = 0
        self.window = _Window()

    # --- State beside the checkpoints ---

    def _state_path(self, step):
        return os.path.join(self.staging, CHECKPOINT_FOLDER, f"state-{step}.json")

    def _read_state(self, step) -> dict:
        if step == 0:
            return {"epochs": [], "best": {}}
        with open(self._state_path(step), encoding="utf-8") as f:
            return json.load(f)

    def save_checkpoint(self):
        """Writes the state file, then the checkpoint (whose index makes it count), then drops old states."""
        path = self._state_path(self.step)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.state, f)
        os.replace(path + ".tmp", path)
        self.checkpoints.save(self.step)
        from electra_tf.training.checkpoints import checkpoint_steps

        kept = set(checkpoint_steps(os.path.join(self.staging, CHECKPOINT_FOLDER)))
        for name in os.listdir(os.path.join(self.staging, CHECKPOINT_FOLDER)):
            if name.startswith("state-") and name.endswith(".json"):
                if int(name[len("state-"):-len(".json")]) not in kept:
                    os.remove(os.path.join(self.staging, CHECKPOINT_FOLDER, name))

    # --- The loop ---

    def run(self):
        while self.step < self.total_steps:
            epoch, done = divmod(self.step, self.steps_per_epoch)
            self._fit_epoch(epoch, done)
            if self.step % self.steps_per_epoch == 0:
                self._end_epoch(epoch + 1)
        self.progress.close()

    def _dataset(self, epoch: int, skip_steps: int):
        import tensorflow as tf

        order = epoch_order(len(self.train_data), self.options.seed, epoch)[skip_steps * self.options.batch_size:]
        inputs = {name: values[order] for name, values in self.train_data.inputs().items()}
        targets = self.train_data.targets()
        targets = ({name: values[order] for name, values in targets.items()} if isinstance(targets, dict)
                   else targets[order])
        batches = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(self.options.batch_size,
                                                                               drop_remainder=self.static_batches)
        return for_short_lived_iterator(batches)  # one epoch's iterator; dropping it must not stall

    def _fit_epoch(self, epoch: int, done: int):
        remaining = self.steps_per_epoch - done
        callback = _StepCallback(self)
        self.model.fit(self._dataset(epoch, done), epochs=1, steps_per_epoch=remaining, verbose=0,
                       callbacks=[callback], shuffle=False)
        if callback.interrupted:
            raise Interrupted(f"stopped after {self.steps_this_process} steps (--stop-after-steps)")

    def after_step(self, logs: dict):
        """Called by the callback after each step: progress, history, TensorBoard, periodic checkpoints."""
        self.step += 1
        self.steps_this_process += 1
        metrics = {name: float(value) for name, value in logs.items()}
        self.progress.update(self.step, metrics)
        if self.step % self.options.log_every == 0 or self.step == self.total_steps:
            means = self.window.pop_means()
            means["learning_rate"] = float(self.optimizer.learning_rate)
            means["examples_per_second"] = self.progress.examples_per_second
            self.history.write(self.step, "train", means)
            self._scalars("train", means)
        at_epoch_end = self.step % self.steps_per_epoch == 0
        if not at_epoch_end and self.step % self.checkpoint_every == 0:
            self.save_checkpoint()

    def _scalars(self, split, metrics):
        from electra_tf.training.summaries import write_scalar

        with self.writers[split].as_default():
            for name, value in metrics.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    write_scalar(name, value, self.step)
        self.writers[split].flush()

    def _end_epoch(self, epoch: int):
        entry = {"epoch": epoch, "step": self.step}
        if self.validation_data is not None:
            start = time.monotonic()
            outputs = self.predict(self.validation_data)
            metrics = self.validation_data.score(outputs)
            entry.update(metrics)
            self.history.write(self.step, "validation", metrics)
            self._scalars("validation", metrics)
            main = self.validation_data.main_metric
            value = metrics.get(main, float("nan"))
            best = self.state["best"]
            improved = not best or (math.isfinite(value) and not value <= best.get(main, -math.inf))
            shown = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()
                              if name in ("accuracy", "f1", "mcc", "pearson", "spearman", "exact_match", "precision",
                                          "recall"))
            self.progress.message(f"finetune: epoch {epoch}/{self.options.epochs} validation: {shown} "
                                  f"({time.monotonic() - start:.1f}s){' - best so far' if improved else ''}")
            if improved:
                self.state["best"] = dict(entry)
                self.model.save_weights(os.path.join(self.staging, BEST_WEIGHTS_FILE))
                _write_jsonl(os.path.join(self.staging, PREDICTIONS_FILE), self.validation_data.predictions(outputs))
        else:
            self.state["best"] = dict(entry)
            self.progress.message(f"finetune: epoch {epoch}/{self.options.epochs} done")
        self.state["epochs"].append(entry)
        self.save_checkpoint()

    def predict(self, data) -> dict:
        outputs = self.model.predict(batched_arrays(data.inputs(), max(self.options.batch_size, 64)), verbose=0)
        return {name: np.asarray(value) for name, value in outputs.items()}

    def finish(self, tokenizer, reader, out, start_time) -> FinetuneResult:
        """Writes the model directory and reports into staging, then renames staging to OUT."""
        best_weights = os.path.join(self.staging, BEST_WEIGHTS_FILE)
        if os.path.isfile(best_weights):
            self.model.load_weights(best_weights)
        write_task_files(self.model, self.staging, self.spec, vocab_file=tokenizer.vocab_file,
                         lowercase=tokenizer.lowercase)
        metric = self.validation_data.main_metric if self.validation_data is not None else "loss"
        report = {"task": self.spec.task, "metric": metric, "epochs": self.state["epochs"], "best": self.state["best"]}
        with open(os.path.join(self.staging, METRICS_FILE), "w", encoding="utf-8") as f:
            json.dump(_finite(report), f, indent=2)
            f.write("\n")
        # Run state is not part of the model directory.
        shutil.rmtree(os.path.join(self.staging, CHECKPOINT_FOLDER), ignore_errors=True)
        for name in (BEST_WEIGHTS_FILE, OPTIONS_FILE):
            if os.path.exists(os.path.join(self.staging, name)):
                os.remove(os.path.join(self.staging, name))
        for writer in self.writers.values():
            writer.close()
        if out is None:  # a non-chief worker
            shutil.rmtree(self.staging, ignore_errors=True)
        else:
            replace_dir(self.staging, out)
        best = self.state["best"]
        self.log(f"wrote {out}" + (f" (best epoch {best['epoch']}: {metric} {best.get(metric, float('nan')):.4f})"
                                   if metric in best else ""))
        return FinetuneResult(out=out, spec=self.spec, epochs=self.state["epochs"], best=best, metric=metric,
                              train_examples=len(self.train_data), steps=self.step,
                              seconds=time.monotonic() - start_time)


class _Window:
    """Means of the per-step values of the training metrics since the last history line."""

    def __init__(self):
        self.sums, self.count = {}, 0

    def add(self, values: dict):
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
        self.count += 1

    def pop_means(self) -> dict:
        means = {name: total / max(1, self.count) for name, total in self.sums.items()}
        self.sums, self.count = {}, 0
        return means


class _StepCallback(keras.callbacks.Callback):
    """Turns Keras's running epoch means into per-step values and hands each step to the trainer."""

    def __init__(self, trainer):
        super().__init__()
        self.trainer = trainer
        self.interrupted = False
        self.window = trainer.window
        self._previous = {}

    def on_train_batch_end(self, batch, logs=None):
        logs = {name: float(value) for name, value in (logs or {}).items()}
        # Keras logs the mean over this fit call's batches; recover this batch's value from it.
        step_values = {name: value * (batch + 1) - self._previous.get(name, 0.0) * batch
                       for name, value in logs.items()}
        self._previous = logs
        self.window.add(step_values)
        self.trainer.after_step(logs)
        stop = self.trainer.options.stop_after_steps
        if stop is not None and self.trainer.steps_this_process >= stop:
            self.interrupted = True
            self.model.stop_training = True


def _write_jsonl(path, records):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


def _finite(value):
    """JSON-safe copy: NaN and infinities become null."""
    if isinstance(value, dict):
        return {name: _finite(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
