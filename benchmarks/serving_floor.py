#!/usr/bin/env python3
"""What a one-sentence request to ELECTRA-Small must cost on this CPU: its dense matmuls alone, from memory.

    python benchmarks/serving_floor.py                 # 16 tokens, one thread (the latency setting)
    python benchmarks/serving_floor.py --tokens 128 --threads 2
    python benchmarks/serving_floor.py --dtype bfloat16     # half the weight bytes

Runs the discriminator's dense matmuls of one request in order, `[tokens, in] x [in, out]` for the embedding
projection, each block's query/key/value, attention output and both feed-forward layers, and the replaced-token
head, inside one `tf.function`, twice: with the model's own distinct weight matrices (what a served request
does: every matrix is read from memory once, and together they exceed the last-level cache) and with each
matrix replaced by one of four cache-resident ones of the same shape (the same FLOPs from cache). The gap
between the two is the time spent streaming weights; the first is a floor under the model's time for the
request (attention, LayerNorm, GELU, tokenisation and transport come on top). Prints one JSON line.
"""

import argparse
import json
import os
import statistics
import time

from machine import cpu_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def dense_shapes(config):
    """`(in, out)` of every dense matmul of the discriminator's forward pass, in order."""
    hidden, ffn = config.hidden_size, config.intermediate_size
    shapes = [(config.embedding_size, hidden)] if config.embedding_size != hidden else []
    for _ in range(config.num_layers):
        shapes += [(hidden, 3 * hidden), (hidden, hidden), (hidden, ffn), (ffn, hidden)]
    return shapes + [(hidden, hidden), (hidden, 1)]


def time_matmuls(tf, inputs, weights, repeats):
    @tf.function
    def forward():
        total = tf.constant(0.0)
        for x, w in zip(inputs, weights):
            total += tf.cast(tf.reduce_sum(tf.matmul(x, w)[:1, :1]), tf.float32)  # a distinct input each
        return total

    forward()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward().numpy()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                        help="dtype of the weights and inputs (bfloat16: half the weight bytes)")
    args = parser.parse_args()

    import tensorflow as tf

    from electra_tf import ElectraConfig

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    shapes = dense_shapes(ElectraConfig.preset(args.preset))
    dtype = tf.as_dtype(args.dtype)

    def normal(shape, seed):
        return tf.cast(tf.random.stateless_normal(shape, seed=seed), dtype)

    inputs = [normal([args.tokens, n_in], [i, 0]) for i, (n_in, _) in enumerate(shapes)]
    distinct = [normal(shape, [i, 1]) for i, shape in enumerate(shapes)]
    resident = {shape: [normal(shape, [j, 2]) for j in range(4)] for shape in set(shapes)}
    cached = [resident[shape][i % 4] for i, shape in enumerate(shapes)]
    flops = sum(2 * args.tokens * n_in * n_out for n_in, n_out in shapes)
    weight_bytes = sum(dtype.size * n_in * n_out for n_in, n_out in shapes)
    # Alternate the two so that load on the machine hits both alike.
    from_memory, from_cache = [], []
    for _ in range(3):
        from_memory.append(time_matmuls(tf, inputs, distinct, args.repeats))
        from_cache.append(time_matmuls(tf, inputs, cached, args.repeats))
    memory_s, cache_s = statistics.median(from_memory), statistics.median(from_cache)
    print(json.dumps({
        "benchmark": "serving_floor", "preset": args.preset, "tokens": args.tokens, "threads": args.threads,
        "dtype": args.dtype, "cpu": cpu_model(), "dense_matmuls": len(shapes), "weight_mib": round(weight_bytes / 2**20, 1),
        "gflop": round(flops / 1e9, 3),
        "distinct_weights_ms": round(memory_s * 1000, 2), "cache_resident_weights_ms": round(cache_s * 1000, 2),
        "distinct_gflops": round(flops / memory_s / 1e9, 1), "cache_resident_gflops": round(flops / cache_s / 1e9, 1),
        "weight_stream_gb_per_s": round(weight_bytes / memory_s / 1e9, 2),
    }))


if __name__ == "__main__":
    main()
