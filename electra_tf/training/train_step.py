"""`PretrainingStep`: one optimizer step of an `ElectraPretrainer` under any strategy, with accumulation.

Per replica and micro-batch: the pretrainer's forward pass (`pretraining_outputs`) with an explicit seed,
gradients of the (loss-scaled) loss, optionally added into per-replica accumulators. Per optimizer step:
the gradients are summed over replicas *here*, once, then their global norm is measured and the optimizer
(`SummedGradientsAdamW`, which clips that global gradient to `clip_norm`) applies them.

Why not `optimizer.apply_gradients` on per-replica gradients, as `Model.fit` does: Keras 3 clips each
replica's gradient by its own norm *before* summing over replicas, so with `global_clipnorm` a mirrored run
would not train like one device on the same global batch; and the gradient norm (logged) needs the summed
gradient anyway.

Randomness: micro-batch `m` on replica `r` of `R` is shard `m x R + r` of the global batch and is masked and
sampled with seed `[seed x 1000003 + shard, step_counter]`, `step_counter` being the pretrainer's saved
counter of optimizer steps. With `grad_accum=1` this is the pretrainer's own `train_step` seeding; and one
device accumulating K micro-batches draws exactly the masks of K replicas taking one micro-batch each, so
those runs train identically.

Losses inside a micro-batch are averaged over its global (all-replica) denominators by the pretrainer;
accumulation averages the micro-batch gradients, which equals one large batch exactly when the micro-batches
have equal denominators (and closely otherwise), as in Model Garden and the original implementation.

Example:
>>> step = PretrainingStep(pretrainer, optimizer, strategy, grad_accum=2, seed=0)  # doctest: +SKIP
>>> logs = step(iterator)  # doctest: +SKIP; dict of float32 scalars: loss, gradient_norm, ...
"""

from __future__ import annotations

import keras
import tensorflow as tf

from electra_tf.errors import InputError
from electra_tf.optimization import ElectraAdamW

SEED_STRIDE = 1_000_003  # the pretrainer's spacing of per-replica streams


@keras.saving.register_keras_serializable(package="electra_tf")
class SummedGradientsAdamW(ElectraAdamW):
    """`ElectraAdamW` for gradients that the training step has already summed over replicas.

    Keras's TensorFlow optimizer all-reduces gradients inside `apply_gradients`; `PretrainingStep` does that
    itself (to clip and measure the global gradient), so the optimizer must not sum a second time.

    Example:
    >>> optimizer = SummedGradientsAdamW(1e-3, global_clipnorm=1.0)
    >>> isinstance(optimizer, ElectraAdamW)
    True
    """

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return list(grads_and_vars)


def summed_gradients_optimizer(optimizer: ElectraAdamW) -> SummedGradientsAdamW:
    """The same optimizer recipe (schedule, decay, clipping) as a `SummedGradientsAdamW`."""
    return SummedGradientsAdamW.from_config(optimizer.get_config())


class PretrainingStep:
    """Callable `step(iterator) -> logs` running one optimizer step (see the module docstring).

    Args:
        pretrainer: ElectraPretrainer, built inside `strategy.scope()`.
        optimizer: the compiled optimizer (`SummedGradientsAdamW`, possibly inside a `LossScaleOptimizer`).
        strategy: tf.distribute.Strategy.
        grad_accum: int. Micro-batches per optimizer step.
        seed: int. Seed of the masking and sampling streams.
        jit_compile: bool. Compile the forward and backward pass with XLA.

    Returns (on call): dict of float32 scalars over the global batch: `loss`, `mlm_loss`, `mlm_accuracy`,
    `gradient_norm`, `learning_rate`, and for ELECTRA `rtd_loss`, `rtd_accuracy`, `rtd_precision`,
    `rtd_recall`, `replaced_fraction`.
    """

    def __init__(self, pretrainer, optimizer, strategy, grad_accum=1, seed=0, jit_compile=False):
        self.pretrainer = pretrainer
        self.optimizer = optimizer
        self.strategy = strategy
        self.grad_accum = int(grad_accum)
        self.seed = int(seed)
        self.variables = list(pretrainer.trainable_variables)
        # A nested tf.function may not hold a cross-replica sum (the pretrainer's loss denominators) under
        # mirrored strategies, so only a one-replica step gets its own XLA-compiled function; TPUStrategy
        # compiles the whole step with XLA anyway.
        if jit_compile and strategy.num_replicas_in_sync > 1:
            raise InputError(
                "--xla is supported on one replica and on TPUs; with several mirrored replicas the loss "
                "all-reduce inside the step cannot be compiled separately. Drop --xla or use one device."
            )
        self._forward_backward = (
            tf.function(self._forward_backward_fn, jit_compile=True) if jit_compile else self._forward_backward_fn
        )
        self._accumulators = None
        if self.grad_accum > 1:
            with strategy.scope():
                # Replica-local sums of the micro-batch gradients (ON_READ: each replica keeps its own).
                self._accumulators = [
                    tf.Variable(
                        tf.zeros(variable.shape, variable.dtype), trainable=False, name=f"accumulated_gradient_{i}",
                        synchronization=tf.VariableSynchronization.ON_READ, aggregation=tf.VariableAggregation.SUM,
                    )
                    for i, variable in enumerate(self.variables)
                ]
        self._step = tf.function(self._step_fn)

    def __call__(self, iterator) -> dict:
        return self._step(iterator)

    # --- Per replica ---

    def _forward_backward_fn(self, inputs, shard):
        """Loss, gradients and metric sums of one micro-batch on one replica."""
        seed = tf.stack(
            [tf.constant(self.seed * SEED_STRIDE, tf.int64) + tf.cast(shard, tf.int64),
             tf.cast(self.pretrainer.step_counter, tf.int64)]
        )
        with tf.GradientTape() as tape:
            outputs = self.pretrainer.pretraining_outputs(inputs, seed=seed, training=True)
            scaled_loss = self.optimizer.scale_loss(outputs["loss"])
        gradients = tape.gradient(scaled_loss, self.variables)
        return gradients, metric_sums(outputs, inputs)

    def _shard(self, micro_index):
        replica_id = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.cast(micro_index, tf.int32) * self.strategy.num_replicas_in_sync + tf.cast(replica_id, tf.int32)

    def _accumulate_fn(self, inputs, micro_index):
        gradients, sums = self._forward_backward(inputs, self._shard(micro_index))
        for accumulator, gradient in zip(self._accumulators, gradients):
            accumulator.assign_add(tf.cast(gradient, accumulator.dtype))
        return sums

    def _single_fn(self, inputs):
        gradients, sums = self._forward_backward(inputs, self._shard(0))
        return {**sums, **self._apply(gradients)}

    def _apply_accumulated_fn(self):
        gradients = [accumulator.read_value() / float(self.grad_accum) for accumulator in self._accumulators]
        results = self._apply(gradients)
        for accumulator in self._accumulators:
            accumulator.assign(tf.zeros_like(accumulator))
        return results

    def _apply(self, gradients):
        """Sums gradients over replicas, measures their norm and applies them; in replica context."""
        replica_context = tf.distribute.get_replica_context()
        if self.strategy.num_replicas_in_sync > 1:
            gradients = replica_context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        loss_scale = tf.cast(self.optimizer.scale_loss(tf.constant(1.0)), tf.float32)
        gradient_norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in gradients]) / loss_scale
        learning_rate = tf.cast(self.optimizer.learning_rate, tf.float32)
        self.optimizer.apply_gradients(zip(gradients, self.variables))
        self.pretrainer.step_counter.assign_add(1)
        return {"gradient_norm": gradient_norm, "learning_rate": learning_rate, "loss_scale": loss_scale}

    # --- Per step (cross-replica) ---

    def _step_fn(self, iterator):
        strategy = self.strategy
        if self.grad_accum == 1:
            per_replica = strategy.run(self._single_fn, args=(next(iterator),))
            sums = {name: strategy.reduce("SUM", value, axis=None) for name, value in per_replica.items()
                    if name not in ("gradient_norm", "learning_rate", "loss_scale")}
            applied = {name: strategy.experimental_local_results(per_replica[name])[0]
                       for name in ("gradient_norm", "learning_rate", "loss_scale")}
        else:
            sums = {name: tf.constant(0.0) for name in metric_sum_names(self.pretrainer)}
            for micro_index in tf.range(self.grad_accum):  # a graph loop: the step's size does not grow with K
                per_replica = strategy.run(self._accumulate_fn, args=(next(iterator), micro_index))
                sums = {name: sums[name] + strategy.reduce("SUM", per_replica[name], axis=None) for name in sums}
            per_replica = strategy.run(self._apply_accumulated_fn)
            applied = {name: strategy.experimental_local_results(value)[0] for name, value in per_replica.items()}
        return {**metrics_from_sums(sums, self.grad_accum), **applied}


def metric_sum_names(pretrainer) -> tuple[str, ...]:
    """Keys of `metric_sums` for a pretrainer's objective."""
    names = ("loss", "mlm_loss", "mlm_correct", "mlm_count")
    if pretrainer.discriminator is None:
        return names
    return names + ("rtd_loss", "tokens", "rtd_correct", "replaced", "predicted_replaced", "true_replaced")


def metric_sums(outputs, inputs) -> dict:
    """Numerators and denominators of the step's metrics on one replica (float32 scalars).

    The losses are already this replica's share of a global-batch mean, so their sums over replicas are the
    global losses.
    """
    sums = {name: tf.cast(outputs[name], tf.float32) for name in ("loss", "mlm_loss", "rtd_loss") if name in outputs}
    weights = tf.cast(outputs["mask_weights"], tf.float32)
    predicted = tf.argmax(outputs["mlm_logits"], axis=-1, output_type=tf.int32)
    sums["mlm_correct"] = tf.reduce_sum(tf.cast(tf.equal(predicted, outputs["original_ids"]), tf.float32) * weights)
    sums["mlm_count"] = tf.reduce_sum(weights)
    if "rtd_logits" in outputs:
        real = tf.cast(inputs["input_mask"], tf.float32)
        labels = tf.cast(outputs["rtd_labels"], tf.float32) * real
        predicted_replaced = tf.cast(outputs["rtd_logits"] > 0, tf.float32) * real
        sums["tokens"] = tf.reduce_sum(real)
        sums["rtd_correct"] = tf.reduce_sum(tf.cast(tf.equal(predicted_replaced, labels), tf.float32) * real)
        sums["replaced"] = tf.reduce_sum(labels)
        sums["predicted_replaced"] = tf.reduce_sum(predicted_replaced)
        sums["true_replaced"] = tf.reduce_sum(predicted_replaced * labels)
    return sums


def metrics_from_sums(sums: dict, num_micro_batches: int) -> dict:
    """Global metrics from the sums over replicas and micro-batches."""
    metrics = {name: sums[name] / float(num_micro_batches) for name in ("loss", "mlm_loss", "rtd_loss") if name in sums}
    metrics["mlm_accuracy"] = tf.math.divide_no_nan(sums["mlm_correct"], sums["mlm_count"])
    if "tokens" in sums:
        metrics["rtd_accuracy"] = tf.math.divide_no_nan(sums["rtd_correct"], sums["tokens"])
        metrics["rtd_precision"] = tf.math.divide_no_nan(sums["true_replaced"], sums["predicted_replaced"])
        metrics["rtd_recall"] = tf.math.divide_no_nan(sums["true_replaced"], sums["replaced"])
        metrics["replaced_fraction"] = tf.math.divide_no_nan(sums["replaced"], sums["tokens"])
    return metrics
