#!/usr/bin/env python3
"""The masked-LM cross-entropy's share of the train step: TensorFlow's kernel against `losses.py`'s, one process.

    python benchmarks/cross_entropy_ab.py --rounds 8 --steps 3

Builds two ELECTRA-Small pretrainers (batch 32 x 128, the full recipe, fp32) in one process: one traced with
`tf.nn.sparse_softmax_cross_entropy_with_logits` in its masked-LM loss (the previous release), one with
`electra_tf.losses.sparse_softmax_cross_entropy`. Both warm up for two steps, then `--rounds` rounds of `--steps`
steps each through `fit`, the order swapped every round, so that load on a shared machine hits both alike (a
step's run-to-run spread between processes is larger than the difference). Before that, the loss and its
gradient alone over the generator's `[batch, predictions, vocab]` logits, medians of 30 calls. Prints one JSON
line: seconds per step per round, the medians, the ratio of medians and the median of the paired ratios.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def builtin_cross_entropy(logits, labels):
    import tensorflow as tf

    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def loss_and_gradient_ms(tf, cross_entropy, logits, labels, weights, calls=30):
    """Median milliseconds of the weighted loss sum and its gradient with respect to the logits."""

    @tf.function
    def loss_and_gradient():
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = tf.reduce_sum(cross_entropy(logits, labels) * weights)
        return loss, tape.gradient(loss, logits)

    loss_and_gradient()
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        _, gradient = loss_and_gradient()
        gradient.numpy()
        seconds.append(time.perf_counter() - start)
    return round(statistics.median(seconds) * 1000, 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tensorflow as tf

    from electra_tf import ElectraConfig, losses
    from machine import cpu_model
    from pretrain_step import seconds_per_step, warm_pretrainer

    config = ElectraConfig.preset("small")
    shape = [32, config.max_predictions, config.vocab_size]
    logits = tf.random.stateless_normal(shape, seed=[0, 1]) * 3.0
    labels = tf.random.stateless_uniform(shape[:-1], seed=[0, 2], maxval=config.vocab_size, dtype=tf.int32)
    weights = tf.ones(shape[:-1])
    fused = losses.sparse_softmax_cross_entropy
    alone_ms = {name: loss_and_gradient_ms(tf, function, logits, labels, weights)
                for name, function in (("builtin", builtin_cross_entropy), ("fused", fused))}

    # The loss function is looked up when `fit` first traces the step, during the warm-up.
    losses.sparse_softmax_cross_entropy = builtin_cross_entropy
    try:
        pretrainers = {"builtin": warm_pretrainer("small", 32, 128)}
    finally:
        losses.sparse_softmax_cross_entropy = fused
    pretrainers["fused"] = warm_pretrainer("small", 32, 128)
    seconds = {"builtin": [], "fused": []}
    for round_index in range(args.rounds):
        order = ("builtin", "fused") if round_index % 2 == 0 else ("fused", "builtin")
        for name in order:
            pretrainer, dataset, _ = pretrainers[name]
            seconds[name].append(seconds_per_step(pretrainer, dataset, args.steps))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    print(json.dumps({
        "benchmark": "cross_entropy_ab", "preset": "small", "batch": 32, "seq": 128, "cpu": cpu_model(),
        "logits_shape": shape, "loss_and_gradient_alone_ms": alone_ms,
        "seconds_per_step": {name: [round(s, 3) for s in values] for name, values in seconds.items()},
        "median_seconds_per_step": {name: round(m, 3) for name, m in medians.items()},
        "speedup_x": round(medians["builtin"] / medians["fused"], 3),
        "paired_speedup_x": round(statistics.median(
            [b / f for b, f in zip(seconds["builtin"], seconds["fused"])]), 3),
    }))


if __name__ == "__main__":
    main()
