"""`pretrain`: a whole pretraining run — strategy, data, model, resume, steps, checkpoints, logs, final model.

A custom loop rather than `Model.fit`, because exact resumption and correct distribution need things `fit`
does not give: the step's data position must be derived from the restored step (`fit` owns its iterator,
and `tf.distribute` iterators cannot be checkpointed); the global gradient norm must be measured and
clipped after the cross-replica sum (Keras clips per replica, `train_step.py`); the NaN guard must act before
a checkpoint is written rather than after an epoch; and gradient accumulation spans several iterator reads
per optimizer step. The step itself is the pretrainer's forward pass (`pretraining_outputs`).

Run directory:

    RUN_DIR/config.json     ElectraConfig (checked on resume: another config is an error)
    RUN_DIR/run.json        the options of the first invocation
    RUN_DIR/checkpoints/    rolling tf.train checkpoints (`checkpoints.py`)
    RUN_DIR/logs/train/     TensorBoard: losses, accuracies, RTD precision/recall, replaced fraction,
                            learning rate, gradient norm, examples/s (and the loss scale under fp16)
    RUN_DIR/logs/validation/  TensorBoard: the held-out metrics (RTD ROC-AUC among them), same tag names
    RUN_DIR/history.jsonl   the same numbers, one JSON line per logged step (`history.py`)
    RUN_DIR/final/          the model directory of `electra_tf.model_dir` (with the vocabulary)

A new run starts from fresh weights, or from a model directory's with `init_from` (continued pretraining,
`initial_model.py`); a run directory with a checkpoint resumes from it either way.

Held-out evaluation: with prepared data that has a held-out split (`prepare --validation-fraction`, 1% by
default), every `eval_every` steps (default: at each checkpoint) and at the last step, the chief evaluates
`eval_batches` held-out batches with fixed masks (`electra_tf.evaluation.pretraining_metrics`) and prints a
`validation` line. The progress lines, TensorBoard and `history.jsonl` show the same numbers: the means over
the steps since the previous log point.

Example:
>>> result = pretrain(PretrainOptions(out_dir="run/", data_dir="data/", preset="tiny", steps=100))  # doctest: +SKIP
>>> result.final_dir  # doctest: +SKIP
'run/final'
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time

from electra_tf.errors import InputError
from electra_tf.training.initial_model import InitialModel
from electra_tf.training.run_options import PretrainOptions, check_same_config, resolve_model_config

CONFIG_FILE = "config.json"
RUN_FILE = "run.json"


class TrainingDivergedError(RuntimeError):
    """The loss (or the gradient) became NaN or infinite; the run stopped without saving."""


@dataclasses.dataclass
class PretrainResult:
    """What a finished run reports.

    Attributes:
        config: ElectraConfig of the model.
        start_step: int. The step the run resumed from (0 for a new run).
        final_step: int. The step it ended at.
        final_dir: str or None. The model directory written (None on non-chief workers).
        history: list of dict. Metrics of each step this invocation ran (`step` included).
        examples_per_second: float. Throughput of this invocation's steps (first step excluded).
        evaluations: list of dict. Held-out metrics of each evaluation this invocation ran (`step` included).
    """

    config: object
    start_step: int
    final_step: int
    final_dir: str | None
    history: list
    examples_per_second: float
    evaluations: list = dataclasses.field(default_factory=list)


def pretrain(options: PretrainOptions, strategy=None, stream=None) -> PretrainResult:
    """Runs (or resumes) the pretraining described by `options`; see the module docstring.

    Args:
        options: PretrainOptions.
        strategy: tf.distribute.Strategy or None (resolved from `options.strategy`).
        stream: file object for progress and summaries (stderr by default).

    Raises:
        InputError: bad options, data, vocabulary or a run directory with another configuration.
        TrainingDivergedError: a non-finite loss or gradient norm; the last good checkpoint is kept.
    """
    import keras

    from electra_tf import distribute

    strategy = strategy or distribute.resolve_strategy(options.strategy, options.tpu)
    keras.utils.set_random_seed(options.seed)  # initial weights and dropout streams follow --seed
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(options.dtype_policy)
    try:
        return _Run(options, strategy, stream).execute()
    finally:
        keras.config.set_dtype_policy(previous_policy)


class _Run:
    """The state of one invocation of `pretrain`."""

    def __init__(self, options: PretrainOptions, strategy, stream):
        from electra_tf import distribute
        from electra_tf.training.inputs import TrainingData, micro_batch_size

        self.options = options
        self.strategy = strategy
        self.stream = stream
        self.chief = distribute.is_chief(strategy)
        self.worker_name = distribute.worker_id(strategy)
        self.data = TrainingData.open(options.data_dir, options.corpus, options.vocab_file, options.lowercase)
        self.initial_model = InitialModel.open(options.init_from) if options.init_from else None
        self.config = resolve_model_config(options, self.data.tokenizer, self.data.seq_length, self.initial_model)
        micro_batch_size(self.config.batch_size, strategy.num_replicas_in_sync, options.grad_accum)
        self.run_dir = os.path.abspath(options.out_dir)
        self._display = None
        self._history = None
        self._evaluation = None  # (PretrainingEvaluator, held-out tf.data.Dataset) when there is a split
        self.evaluations = []
        self._check_run_dir()

    def _check_run_dir(self):
        from electra_tf.config import ElectraConfig

        config_path = os.path.join(self.run_dir, CONFIG_FILE)
        if os.path.isfile(config_path):
            check_same_config(ElectraConfig.load(config_path), self.config, self.run_dir)
        elif os.path.isdir(self.run_dir) and os.listdir(self.run_dir) and self.chief:
            if os.path.isdir(os.path.join(self.run_dir, "checkpoints")):
                raise InputError(f"{self.run_dir!r} has checkpoints but no {CONFIG_FILE}; choose a new --out.")
        if self.chief:
            os.makedirs(self.run_dir, exist_ok=True)
            if not os.path.isfile(config_path):
                _write_atomically(config_path, self.config.to_json() + "\n")
                _write_atomically(os.path.join(self.run_dir, RUN_FILE), json.dumps(self.options.to_dict(), indent=2) + "\n")

    def execute(self) -> PretrainResult:
        import tensorflow as tf

        from electra_tf import distribute
        from electra_tf.models.pretrainer import ElectraPretrainer
        from electra_tf.optimization import create_optimizer
        from electra_tf.training.checkpoints import RunCheckpoints
        from electra_tf.training.inputs import distributed_dataset
        from electra_tf.training.progress import ProgressDisplay
        from electra_tf.training.train_step import PretrainingStep, summed_gradients_optimizer

        options, config, strategy = self.options, self.config, self.strategy
        with strategy.scope():
            pretrainer = ElectraPretrainer(config, seed=options.seed)
            pretrainer.compile(optimizer=summed_gradients_optimizer(create_optimizer(config)))
            optimizer = pretrainer.optimizer  # a LossScaleOptimizer under mixed_float16
            optimizer.build(pretrainer.trainable_variables)
        # Keras's dropout seed generators are not tracked by tf.train; without them a resumed run would draw
        # other dropout masks than an uninterrupted one.
        dropout_streams = [v.value for v in pretrainer.variables if "seed_generator" in v.path]
        checkpoint = tf.train.Checkpoint(model=pretrainer, optimizer=optimizer, dropout_streams=dropout_streams)
        checkpoints = RunCheckpoints(
            checkpoint, os.path.join(self.run_dir, "checkpoints"), keep=options.keep_checkpoints,
            chief=self.chief, worker_name=self.worker_name,
            warn=lambda message: self._message(f"warning: {message}", always=True),
        )
        start_step = checkpoints.restore_latest() or 0
        total_steps = config.train_steps
        display = ProgressDisplay(
            total_steps, start_step, config.batch_size, options.log_every, stream=self.stream, enabled=self.chief
        )
        self._display = display
        from electra_tf.training.history import HISTORY_FILE, HistoryWriter

        self._history = HistoryWriter(os.path.join(self.run_dir, HISTORY_FILE), resume_step=start_step,
                                      enabled=self.chief)
        self._message(
            f"pretrain: {config.objective} on {distribute.describe_strategy(strategy)}, {options.precision}"
            f"{' + XLA' if options.xla else ''}, global batch {config.batch_size}"
            f"{f' ({options.grad_accum} micro-batches)' if options.grad_accum > 1 else ''} of {config.seq_length} "
            f"tokens, {'resuming at step ' + str(start_step) if start_step else 'new run'}, ending at step "
            f"{total_steps}; run directory {self.run_dir}"
        )
        if start_step == 0 and self.initial_model is not None:
            self.initial_model.load_into(pretrainer)  # outside the scope: one copy of the source, not one per replica
            self._message(f"pretrain: starting from the weights of {self.initial_model.model_dir} (--init-from)")
        from electra_tf.training.precision_support import precision_warning

        if (warning := precision_warning(options.precision)) is not None:  # bf16 on a CPU without bf16 units
            self._message(warning, always=True)
        history = []
        rate = 0.0
        if start_step < total_steps:
            self._evaluation = self._held_out_evaluation(pretrainer)
            dataset = distributed_dataset(
                strategy, self.data, config.batch_size, seq_length=config.seq_length,
                grad_accum=options.grad_accum, seed=options.seed, start_step=start_step,
            )
            step_fn = PretrainingStep(
                pretrainer, optimizer, strategy, grad_accum=options.grad_accum, seed=options.seed,
                jit_compile=options.xla,
            )
            history, rate = self._train(step_fn, iter(dataset), checkpoints, start_step, total_steps)
        display.close()
        final_dir = self._write_final(pretrainer)
        return PretrainResult(config, start_step, total_steps, final_dir, history, rate, self.evaluations)

    def _held_out_evaluation(self, pretrainer):
        """`(evaluator, dataset)` for the held-out split, or None (with a note saying why) when there is none."""
        options = self.options
        interval = options.evaluation_interval
        manifest = self.data.manifest
        if not interval:
            return None
        if manifest is None or manifest.num_validation_examples == 0:
            reason = (
                "streamed text (--corpus) has no held-out split" if manifest is None
                else f"{manifest.data_dir} was prepared without a held-out split (--validation-fraction 0, or an "
                "older electra-tf)"
            )
            if options.eval_every:
                raise InputError(f"--eval-every needs held-out data, but {reason}. Prepare the data with "
                                 "`electra-tf prepare --validation-fraction 0.01`.")
            self._message(f"pretrain: no held-out evaluation: {reason}")
            return None
        if not self.chief:
            return None
        from electra_tf.data.pipeline import validation_dataset
        from electra_tf.evaluation.pretraining_metrics import PretrainingEvaluator

        batch_size = max(1, self.config.batch_size // options.grad_accum)
        dataset = validation_dataset(manifest.data_dir, batch_size, manifest=manifest)
        self._message(
            f"pretrain: evaluating {min(options.eval_batches, -(-manifest.num_validation_examples // batch_size))} "
            f"held-out batch(es) of {batch_size} every {interval} steps (fixed masks; "
            f"{manifest.num_validation_examples:,} held-out examples)"
        )
        return PretrainingEvaluator(pretrainer, seed=options.seed), dataset

    def _evaluate(self, step, total_steps, writer):
        from electra_tf.training.progress import validation_summary
        from electra_tf.training.summaries import write_scalars

        evaluator, dataset = self._evaluation
        started = time.monotonic()
        metrics = evaluator.evaluate(dataset, max_batches=self.options.eval_batches)
        seconds = time.monotonic() - started
        counts = ("examples", "tokens", "masked_tokens", "mask_token_positions")
        scalars = {name: value for name, value in metrics.items() if name not in counts}
        with writer.as_default():
            write_scalars(scalars, step=step)
        writer.flush()
        self._history.write(step, "validation", metrics)
        self.evaluations.append({"step": step, **metrics})
        self._message(validation_summary(step, total_steps, metrics, seconds))
        return seconds

    def _train(self, step_fn, iterator, checkpoints, start_step, total_steps):
        import tensorflow as tf

        options = self.options
        writer = (
            tf.summary.create_file_writer(os.path.join(self.run_dir, "logs", "train"))
            if self.chief else tf.summary.create_noop_writer()
        )
        validation_writer = (
            tf.summary.create_file_writer(os.path.join(self.run_dir, "logs", "validation"))
            if self.chief and self._evaluation is not None else tf.summary.create_noop_writer()
        )
        eval_interval = self.options.evaluation_interval
        history, log_window, checkpoint_window = [], [], []
        first_step_end = None
        last_checkpoint = start_step
        with writer.as_default():
            for step in range(start_step + 1, total_steps + 1):
                metrics = {name: float(value) for name, value in step_fn(iterator).items()}
                if first_step_end is None:
                    first_step_end = time.monotonic()
                self._check_finite(step, metrics, last_checkpoint)
                self._display.record(step)
                metrics["examples_per_second"] = self._display.examples_per_second
                history.append({"step": step, **metrics})
                log_window.append(metrics)
                checkpoint_window.append(metrics)
                # The line shows the means since the last log point: at a log point, what is logged.
                window_means = _means(log_window)
                window_means["examples_per_second"] = metrics["examples_per_second"]  # already a moving rate
                self._display.show(step, window_means)
                if step % options.log_every == 0 or step == total_steps:
                    self._write_summaries(step, window_means)
                    log_window = []
                if self._evaluation is not None and (step % eval_interval == 0 or step == total_steps):
                    seconds = self._evaluate(step, total_steps, validation_writer)
                    self._display.exclude(seconds)  # throughput counts training only
                    first_step_end += seconds
                if step % options.checkpoint_every == 0 or step == total_steps:
                    started = time.monotonic()
                    path = checkpoints.save(step)
                    last_checkpoint = step
                    self._summarise_checkpoint(step, total_steps, checkpoint_window, path, time.monotonic() - started)
                    checkpoint_window = []
            writer.flush()
        validation_writer.flush()
        steps_after_first = total_steps - start_step - 1
        rate = (
            steps_after_first * self.config.batch_size / (time.monotonic() - first_step_end)
            if steps_after_first > 0 else 0.0
        )
        return history, rate

    def _check_finite(self, step, metrics, last_checkpoint):
        names = ["loss"] + ([] if self.options.precision == "fp16" else ["gradient_norm"])  # fp16 skips bad steps
        bad = [name for name in names if not math.isfinite(metrics[name])]
        if not bad:
            return
        self._display.close()
        values = ", ".join(f"{name}={metrics[name]}" for name in ("loss", "mlm_loss", "rtd_loss", "gradient_norm")
                           if name in metrics)
        kept = (
            f"the last good checkpoint is step {last_checkpoint} in {os.path.join(self.run_dir, 'checkpoints')}"
            if last_checkpoint else "no checkpoint was written"
        )
        raise TrainingDivergedError(
            f"training diverged at step {step}: {' and '.join(bad)} not finite ({values}). Stopped without saving; "
            f"{kept}. Lower --learning-rate, lengthen --warmup-steps, or use --precision bf16/fp32."
        )

    def _write_summaries(self, step, window_means):
        from electra_tf.training.summaries import write_scalars

        write_scalars(window_means, step=step)
        logged = {name: value for name, value in window_means.items()
                  if name != "loss_scale" or self.options.precision == "fp16"}
        self._history.write(step, "train", logged)

    def _summarise_checkpoint(self, step, total_steps, window, path, seconds):
        from electra_tf.training.progress import checkpoint_summary

        self._message(
            checkpoint_summary(step, total_steps, _means(window), self._display.examples_per_second,
                               os.path.relpath(path, self.run_dir), seconds, window_steps=len(window))
        )

    def _write_final(self, pretrainer):
        from electra_tf.model_dir import save_model_dir

        if not self.chief:
            return None
        final_dir = save_model_dir(
            pretrainer, os.path.join(self.run_dir, "final"), vocab_file=self.data.vocab_file,
            lowercase=self.data.tokenizer.lowercase,
        )
        self._message(f"pretrain: wrote the final model directory {final_dir}")
        return final_dir

    def _message(self, text, always=False):
        """A full line for the user: from the chief only, unless `always` (warnings of any worker)."""
        if self._display is not None and self.chief:
            self._display.message(text)
        elif self.chief or always:
            print(text, file=self.stream or sys.stderr, flush=True)


def _means(window: list) -> dict:
    """Mean of each metric over a window of steps."""
    if not window:
        return {}
    return {name: sum(metrics[name] for metrics in window) / len(window) for name in window[0]}


def _write_atomically(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)
