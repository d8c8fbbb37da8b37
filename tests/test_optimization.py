"""ElectraAdamW and its schedule against hand computations: Adam without bias correction, epsilon, weight decay
by variable name on a real tiny pretrainer, warm-up + linear decay, layer-wise multipliers, global-norm
clipping, and `create_optimizer(config)`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from electra_tf.config import ElectraConfig
from electra_tf.optimization import (
    ElectraAdamW,
    LinearWarmupLinearDecay,
    create_optimizer,
    layerwise_learning_rate_multipliers,
)

BETA_1, BETA_2 = 0.9, 0.999


def numpy_adamw(weights, gradient_steps, learning_rate, weight_decay, epsilon, decayed=True):
    """BERT's AdamWeightDecayOptimizer in numpy: no bias correction, decay added to the update."""
    w = np.array(weights, np.float64)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for g in gradient_steps:
        g = np.asarray(g, np.float64)
        m = BETA_1 * m + (1 - BETA_1) * g
        v = BETA_2 * v + (1 - BETA_2) * g * g
        update = m / (np.sqrt(v) + epsilon) + (weight_decay * w if decayed else 0.0)
        w = w - learning_rate * update
    return w


def apply_steps(optimizer, variable, gradient_steps):
    for g in gradient_steps:
        optimizer.apply([tf.constant(g, tf.float32)], [variable])
    return variable.numpy()


WEIGHTS = [0.5, -1.5, 2.0, 0.0]
GRADIENTS = [[0.1, -0.2, 0.3, 0.05], [0.3, 0.1, -0.2, -0.05], [-0.2, 0.4, 0.1, 0.2]]


def test_steps_match_numpy_adamw_without_bias_correction():
    variable = keras.Variable(WEIGHTS, name="kernel")
    got = apply_steps(ElectraAdamW(1e-2, weight_decay=0.01, epsilon=1e-6), variable, GRADIENTS[:1])
    expected = numpy_adamw(WEIGHTS, GRADIENTS[:1], 1e-2, 0.01, 1e-6)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)  # float32 sqrt
    # With bias correction the first update would be g / (|g| + eps) ~ sign(g): 1e-2 per weight, not ~3.2e-2.
    step = np.asarray(WEIGHTS) - got - 1e-2 * 0.01 * np.asarray(WEIGHTS)
    g = np.abs(GRADIENTS[0][:3])
    np.testing.assert_allclose(np.abs(step[:3]), 1e-2 * 0.1 * g / (np.sqrt(0.001) * g + 1e-6), rtol=1e-4)

    variable = keras.Variable(WEIGHTS, name="kernel")
    got = apply_steps(ElectraAdamW(1e-2, weight_decay=0.01, epsilon=1e-6), variable, GRADIENTS)
    np.testing.assert_allclose(got, numpy_adamw(WEIGHTS, GRADIENTS, 1e-2, 0.01, 1e-6), rtol=1e-5, atol=1e-7)


def test_epsilon_enters_the_denominator():
    tiny = [[1e-6, -2e-6, 4e-6, 0.0]]  # sqrt(v) ~ 3e-8 .. 1.3e-7, so epsilon = 1e-6 dominates
    variable = keras.Variable(WEIGHTS, name="kernel")
    got = apply_steps(ElectraAdamW(1e-2, weight_decay=0.0, epsilon=1e-6), variable, tiny)
    np.testing.assert_allclose(got, numpy_adamw(WEIGHTS, tiny, 1e-2, 0.0, 1e-6), rtol=1e-6, atol=1e-12)
    without_epsilon = numpy_adamw(WEIGHTS, tiny, 1e-2, 0.0, 1e-12)
    assert np.abs(got - without_epsilon).max() > 1e-3


@pytest.fixture(scope="module")
def pretrainer():
    from electra_tf.models.pretrainer import ElectraPretrainer

    model = ElectraPretrainer(ElectraConfig.preset("tiny"), seed=0)
    model({name: np.ones((1, 128), np.int32) for name in ("input_word_ids", "input_mask", "input_type_ids")})
    return model


def _one_step(model, optimizer, gradient_fn):
    """One optimizer step from non-zero weights (biases start at 0, where decay shows nothing); restores them."""
    original = {v.path: v.numpy().copy() for v in model.trainable_variables}
    rng = np.random.default_rng(0)
    for v in model.trainable_variables:
        v.assign(rng.uniform(0.5, 1.5, v.shape).astype(np.float32))
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    optimizer.apply([gradient_fn(v) for v in model.trainable_variables], model.trainable_variables)
    after = {v.path: v.numpy() for v in model.trainable_variables}
    for v in model.trainable_variables:  # leave the shared model as it was
        v.assign(original[v.path])
    return before, after


def test_weight_decay_reaches_kernels_and_embeddings_but_not_layer_norm_or_biases(pretrainer):
    """Zero gradients: Adam's part of the update is 0, so what moves is the decay alone."""
    optimizer = create_optimizer(pretrainer.config, learning_rate=0.1, warmup_steps=0)
    before, after = _one_step(pretrainer, optimizer, lambda v: tf.zeros_like(v))
    decayed = [p for p in before if not ("layer_norm" in p or p.endswith("bias"))]
    kept = [p for p in before if p not in decayed]
    assert {p.rsplit("/", 1)[1] for p in kept} == {"gamma", "beta", "bias", "output_bias"}
    assert any(p.endswith("kernel") for p in decayed) and "embeddings/word_embeddings" in decayed
    assert len(decayed) + len(kept) == len(pretrainer.trainable_variables) and len(kept) > 10
    for path in decayed:  # w <- w - lr x 0.01 x w
        np.testing.assert_allclose(after[path], before[path] * (1 - 0.1 * 0.01), rtol=1e-6, err_msg=path)
    for path in kept:
        np.testing.assert_array_equal(after[path], before[path], err_msg=path)


def test_warmup_then_linear_decay_values():
    schedule = LinearWarmupLinearDecay(1e-3, warmup_steps=10, total_steps=100)
    expected = {0: 0.0, 1: 1e-3 * 0.99 * 0.1, 5: 1e-3 * 0.95 * 0.5, 10: 1e-3 * 0.9, 11: 1e-3 * 0.89,
                50: 5e-4, 99: 1e-5, 100: 0.0, 150: 0.0}
    for step, value in expected.items():
        np.testing.assert_allclose(float(schedule(step)), value, rtol=1e-5, atol=1e-12, err_msg=f"step {step}")
    no_warmup = LinearWarmupLinearDecay(2e-4, warmup_steps=0, total_steps=4)
    assert [round(float(no_warmup(s)), 8) for s in range(6)] == [2e-4, 1.5e-4, 1e-4, 5e-5, 0.0, 0.0]
    with pytest.raises(ValueError, match="warmup_steps=5, total_steps=4"):
        LinearWarmupLinearDecay(1e-3, warmup_steps=5, total_steps=4)

    # The optimizer reads the schedule at its own step counter.
    optimizer = ElectraAdamW(schedule, weight_decay=0.0)
    variable = keras.Variable([1.0], name="kernel")
    for step in range(5):
        np.testing.assert_allclose(float(optimizer.learning_rate), expected[step] if step in expected else
                                   1e-3 * (1 - step / 100) * step / 10, rtol=1e-5)
        optimizer.apply([tf.constant([0.1])], [variable])
    assert int(optimizer.iterations) == 5


def test_layerwise_multipliers_scale_each_depth(pretrainer):
    multipliers = layerwise_learning_rate_multipliers(2, 0.5)  # depth d -> 0.5 ** (4 - d)
    assert multipliers == {"embeddings/|/embedding_projection/": 0.0625, "/block_0/": 0.125, "/block_1/": 0.25}
    with pytest.raises(ValueError, match="decay=0"):
        layerwise_learning_rate_multipliers(2, 0.0)

    optimizer = ElectraAdamW(1e-3, weight_decay=0.0, epsilon=1e-12, learning_rate_multipliers=multipliers)
    before, after = _one_step(pretrainer, optimizer, lambda v: tf.ones_like(v))
    unit = 1e-3 * (1 - BETA_1) / np.sqrt(1 - BETA_2)  # the first step of a constant gradient, multiplier 1

    def depth_multiplier(path):
        if path.startswith("embeddings/") or "/embedding_projection/" in path:
            return 0.0625
        for block, value in (("/block_0/", 0.125), ("/block_1/", 0.25)):
            if block in path:
                return value
        return 1.0  # heads

    seen = set()
    for path in before:
        expected = depth_multiplier(path)
        seen.add(expected)
        np.testing.assert_allclose(before[path] - after[path], unit * expected, rtol=1e-4, err_msg=path)
    assert seen == {0.0625, 0.125, 0.25, 1.0}


def test_clipping_by_the_global_norm_of_all_gradients():
    """Norms 3 and 4: global norm 5, so both are scaled by 1/5 (per-variable clipping would give 1/3, 1/4)."""
    gradients = [np.array([3.0, 0.0], np.float32), np.array([0.0, 4.0], np.float32)]
    variables = [keras.Variable([1.0, 1.0], name="kernel"), keras.Variable([1.0, 1.0], name="kernel")]
    # epsilon = 1 makes the first Adam step depend on the gradient's scale (else it is scale-free).
    optimizer = ElectraAdamW(0.1, weight_decay=0.0, epsilon=1.0, global_clipnorm=1.0)
    optimizer.apply([tf.constant(g) for g in gradients], variables)
    for variable, gradient in zip(variables, gradients, strict=True):
        expected = numpy_adamw([1.0, 1.0], [gradient / 5.0], 0.1, 0.0, 1.0)
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6)
    unclipped = numpy_adamw([1.0, 1.0], [gradients[1]], 0.1, 0.0, 1.0)
    assert np.abs(variables[1].numpy() - unclipped).max() > 1e-2


def test_create_optimizer_takes_the_papers_settings_from_the_config():
    config = ElectraConfig.preset("tiny")
    optimizer = create_optimizer(config)
    assert isinstance(optimizer, ElectraAdamW)
    assert (optimizer.decay_rate, optimizer.global_clipnorm) == (config.weight_decay, config.clip_norm) == (0.01, 1.0)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.999, 1e-6)
    schedule = optimizer._learning_rate
    assert isinstance(schedule, LinearWarmupLinearDecay)
    assert (schedule.peak_learning_rate, schedule.warmup_steps, schedule.total_steps) == (
        config.learning_rate, config.warmup_steps, config.train_steps)
    overridden = create_optimizer(config, learning_rate=1e-4, train_steps=50, warmup_steps=5,
                                  multipliers={"/block_0/": 0.5})
    schedule = overridden._learning_rate
    assert (schedule.peak_learning_rate, schedule.warmup_steps, schedule.total_steps) == (1e-4, 5, 50)
    assert overridden.learning_rate_multipliers == {"/block_0/": 0.5}
    restored = ElectraAdamW.from_config(overridden.get_config())
    assert restored.get_config() == overridden.get_config()
