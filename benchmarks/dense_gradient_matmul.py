#!/usr/bin/env python3
"""The input gradient of every dense layer of the ELECTRA train step by both matmul kernels: which is faster.

    python benchmarks/dense_gradient_matmul.py --rounds 7

For each distinct `(features, units)` of the generator's and discriminator's dense layers (ELECTRA-Small by
default) and `batch x seq` tokens, times `upstream @ kernel^T` as `MatMul(transpose_b=True)` (what autodiff of
`tf.matmul` emits) and as `BatchMatMulV2(adj_y=True)` (what `layers.tokenwise_dense.input_gradient` picks for
layers that do not narrow), interleaved, medians of `--rounds` rounds of ten calls each. Prints one JSON line:
milliseconds and GFLOP/s per shape and kernel, and the milliseconds per train step that the chosen kernels save
(each shape weighted by how many layers have it).
"""

import argparse
import collections
import json
import os
import statistics
import time

from machine import cpu_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def dense_layer_shapes(config):
    """`(features, units)` -> how many of the train step's untransposed dense layers have that shape."""
    counts = collections.Counter()
    for hidden, ffn in ((config.generator_hidden_size, config.generator_intermediate_size),
                        (config.hidden_size, config.intermediate_size)):
        if config.embedding_size != hidden:
            counts[(config.embedding_size, hidden)] += 1
        for shape in ((hidden, 3 * hidden), (hidden, hidden), (hidden, ffn), (ffn, hidden)):
            counts[shape] += config.num_layers
    counts[(config.generator_hidden_size, config.embedding_size)] += 1  # the MLM head's transform
    counts[(config.hidden_size, config.hidden_size)] += 1  # the replaced-token head's dense layer
    return counts


def median_seconds(tf, functions, rounds, calls=10):
    """Median seconds per call of each function, the functions interleaved within every round."""
    for function in functions.values():
        function().numpy()
    seconds = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(calls):
                result = function()
            result.numpy()
            seconds[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in seconds.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=["tiny", "small", "base"])
    parser.add_argument("--tokens", type=int, default=32 * 128, help="batch x seq")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import tensorflow as tf

    from electra_tf import ElectraConfig
    from electra_tf.layers.tokenwise_dense import input_gradient_by_batch_matmul

    config = ElectraConfig.preset(args.preset)
    shapes, saved_ms = [], 0.0
    for (features, units), layers in sorted(dense_layer_shapes(config).items()):
        upstream = tf.random.stateless_normal([args.tokens, units], seed=[0, 1])
        kernel = tf.random.stateless_normal([features, units], seed=[0, 2])
        kernels = {
            "matmul_transpose_b": tf.function(lambda u=upstream, k=kernel: tf.matmul(u, k, transpose_b=True)),
            "batch_matmul_adj_y": tf.function(
                lambda u=upstream, k=kernel: tf.raw_ops.BatchMatMulV2(x=u, y=k, adj_y=True)),
        }
        seconds = median_seconds(tf, kernels, args.rounds)
        chosen = "batch_matmul_adj_y" if input_gradient_by_batch_matmul(features, units) else "matmul_transpose_b"
        flops = 2 * args.tokens * features * units
        saved_ms += layers * (seconds["matmul_transpose_b"] - seconds[chosen]) * 1000
        shapes.append({
            "features": features, "units": units, "layers": layers, "chosen": chosen,
            "ms": {name: round(s * 1000, 2) for name, s in seconds.items()},
            "gflops": {name: round(flops / s / 1e9, 1) for name, s in seconds.items()},
        })
    print(json.dumps({"benchmark": "dense_gradient_matmul", "preset": args.preset, "tokens": args.tokens,
                      "cpu": cpu_model(), "cpus": os.cpu_count(), "shapes": shapes,
                      "saved_ms_per_step": round(saved_ms, 1)}))


if __name__ == "__main__":
    main()
