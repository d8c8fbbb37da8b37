"""ELECTRA's optimiser: BERT-style AdamW, global-norm clipping, warm-up + linear decay, layer-wise LR decay.

Example:
>>> from electra_tf.config import ElectraConfig
>>> optimizer = create_optimizer(ElectraConfig.preset("tiny"))
>>> float(optimizer.learning_rate)  # step 0 of the warm-up
0.0

References:
    google-research/electra `model/optimization.py` (AdamWeightDecayOptimizer, `_get_layer_lrs`).
"""

from __future__ import annotations

import re

import keras
import tensorflow as tf

# Variable names (the last part of a Keras variable path) that weight decay never touches:
# LayerNorm scale and offset, and every bias.
NO_DECAY_NAMES = ("gamma", "beta", "bias", "output_bias")


@keras.saving.register_keras_serializable(package="electra_tf")
class LinearWarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = peak x (1 - step / total) x min(1, step / warmup), as the original computes it.

    Args:
        peak_learning_rate: float. The learning rate reached at the end of warm-up (before decay).
        warmup_steps: int. Linear warm-up length (0 for none).
        total_steps: int. Step at which the rate reaches 0.

    Example:
    >>> schedule = LinearWarmupLinearDecay(1e-3, warmup_steps=10, total_steps=100)
    >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 100)]
    [0.0, 0.000475, 0.0009, 0.0]
    """

    def __init__(self, peak_learning_rate, warmup_steps, total_steps):
        if total_steps <= 0 or warmup_steps < 0 or warmup_steps > total_steps:
            raise ValueError(
                "Expected 0 <= warmup_steps <= total_steps and total_steps > 0. "
                f"Received: warmup_steps={warmup_steps}, total_steps={total_steps}"
            )
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        decayed = self.peak_learning_rate * tf.maximum(0.0, 1.0 - step / float(self.total_steps))
        if self.warmup_steps == 0:
            return decayed
        return decayed * tf.minimum(1.0, step / float(self.warmup_steps))

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
        }


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraAdamW(keras.optimizers.Optimizer):
    """Adam with decoupled weight decay and no bias correction, as BERT and ELECTRA train.

    update = m / (sqrt(v) + epsilon) + weight_decay x w   (decay skipped for LayerNorm and bias)
    w -= learning_rate x multiplier(w) x update

    Keras's `AdamW` applies bias correction and has no per-variable learning rate; fine-tuning needs the
    latter for layer-wise decay (`layerwise_learning_rate_multipliers`).

    Args:
        learning_rate: float or schedule.
        weight_decay: float. Decoupled decay rate (0.01 in ELECTRA).
        beta_1, beta_2, epsilon: Adam constants (0.9, 0.999, 1e-6 in ELECTRA).
        learning_rate_multipliers: optional dict from a regular expression over variable paths to a
            multiplier; the first match applies, variables that match none use 1.
        no_decay_names: variable names (last path part) excluded from weight decay.
        **kwargs: `keras.optimizers.Optimizer` arguments, e.g. `global_clipnorm=1.0`.

    Example:
    >>> optimizer = ElectraAdamW(1e-3, global_clipnorm=1.0)
    >>> w = keras.Variable([1.0, -1.0], name="kernel")
    >>> optimizer.apply([tf.constant([0.5, -0.5])], [w])
    >>> [round(x, 4) for x in w.numpy().tolist()]
    [0.9968, -0.9968]
    """

    def __init__(
        self,
        learning_rate=1e-3,
        weight_decay=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        learning_rate_multipliers=None,
        no_decay_names=NO_DECAY_NAMES,
        name="electra_adamw",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.decay_rate = weight_decay
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.learning_rate_multipliers = dict(learning_rate_multipliers or {})
        self.no_decay_names = tuple(no_decay_names)
        self._compiled_multipliers = [(re.compile(k), float(v)) for k, v in self.learning_rate_multipliers.items()]

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        # Per-variable constants, keyed like Keras keys its slots (update_step sees the backend variable).
        self._learning_rate_scales = {self._var_key(v): self.multiplier_for(v) for v in var_list}
        self._decayed = {self._var_key(v): bool(self.decay_rate) and v.name not in self.no_decay_names for v in var_list}

    def multiplier_for(self, variable) -> float:
        """The learning-rate multiplier of one Keras variable (1.0 unless a pattern matches its path)."""
        for pattern, multiplier in self._compiled_multipliers:
            if pattern.search(variable.path):
                return multiplier
        return 1.0

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index], self._velocities[index]
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.convert_to_tensor(gradient)
        gradient = tf.cast(gradient, variable.dtype)
        key = self._var_key(variable)
        scale = tf.cast(learning_rate, variable.dtype) * self._learning_rate_scales[key]
        if self._decayed[key]:
            # Decoupled decay from the pre-update weights, exactly as if added to the Adam update.
            variable.assign_sub(scale * self.decay_rate * variable)
        # One fused kernel for m, v and the weight update. Zero beta powers turn its bias correction
        # sqrt(1 - beta2^t) / (1 - beta1^t) into 1: BERT's and ELECTRA's Adam has none.
        zero = tf.zeros([], variable.dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=momentum.value.handle,
            v=velocity.value.handle,
            beta1_power=zero,
            beta2_power=zero,
            lr=scale,
            beta1=tf.cast(self.beta_1, variable.dtype),
            beta2=tf.cast(self.beta_2, variable.dtype),
            epsilon=tf.cast(self.epsilon, variable.dtype),
            grad=gradient,
            use_locking=False,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            weight_decay=self.decay_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            learning_rate_multipliers=self.learning_rate_multipliers,
            no_decay_names=list(self.no_decay_names),
        )
        return config


def create_optimizer(config, *, learning_rate=None, train_steps=None, warmup_steps=None, multipliers=None):
    """The paper's optimiser for an `ElectraConfig`: `ElectraAdamW` + clipping 1.0 + warm-up/decay schedule.

    Args:
        config: `ElectraConfig` (learning rate, steps, warm-up, decay and clip come from it).
        learning_rate, train_steps, warmup_steps: optional overrides of the config's values.
        multipliers: optional layer-wise multipliers (`layerwise_learning_rate_multipliers`).
    """
    schedule = LinearWarmupLinearDecay(
        learning_rate if learning_rate is not None else config.learning_rate,
        warmup_steps if warmup_steps is not None else config.warmup_steps,
        train_steps if train_steps is not None else config.train_steps,
    )
    return ElectraAdamW(
        schedule,
        weight_decay=config.weight_decay,
        global_clipnorm=config.clip_norm,
        learning_rate_multipliers=multipliers,
    )


def layerwise_learning_rate_multipliers(num_layers: int, decay: float) -> dict:
    """Multipliers for fine-tuning with layer-wise LR decay (0.8 for Small/Base, 0.9 for Large).

    Depth 0 is the embeddings (and projection), block i has depth i + 1, and everything else (the task
    head) has depth `num_layers + 2`; the multiplier is `decay ** (num_layers + 2 - depth)`, the original's
    `_get_layer_lrs`.

    Example:
    >>> multipliers = layerwise_learning_rate_multipliers(2, 0.5)
    >>> multipliers["/block_1/"], multipliers["embeddings/|/embedding_projection/"]
    (0.25, 0.0625)
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"Expected a layer-wise decay in (0, 1]. Received: decay={decay}")
    top = num_layers + 2
    multipliers = {"embeddings/|/embedding_projection/": decay**top}
    for index in range(num_layers):
        multipliers[f"/block_{index}/"] = decay ** (top - (index + 1))
    return multipliers
