#!/usr/bin/env python3
"""Train-step throughput of ElectraPretrainer beside TF Model Garden's, and MFU against the matmul peak.

    python benchmarks/pretrain_step.py --preset small --batch 32 --rounds 3 [--mg-python /tmp/mg/bin/python]

Runs, in one process tree and alternating round by round so that load on the machine hits all alike:
the machine's fp32 matmul peak (`../shared/bench/matmul_peak.py`), Model Garden's ElectraPretrainer
(`../shared/bench/model_garden_electra.py`, in the virtual environment given by --mg-python; it pins
TensorFlow 2.20) and ours, same configuration (generator + discriminator forward, backward and optimizer
update, masking budget int((0.15 + 0.005) * seq)). Prints one JSON line with medians and the ratios.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_BENCH = ROOT.parent / "shared" / "bench"


def warm_pretrainer(preset, batch, seq, xla=False, precision="fp32", **config_overrides):
    """Our ElectraPretrainer compiled and run for two warm-up steps, and its endless dataset of one batch.

    Returns: (pretrainer, dataset, config).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    from electra_tf import ElectraConfig, ElectraPretrainer
    from electra_tf.data.short_lived import for_short_lived_iterator

    keras.mixed_precision.set_global_policy({"fp32": "float32", "bf16": "mixed_bfloat16"}[precision])
    config = ElectraConfig.preset(preset, seq_length=seq, **config_overrides)
    pretrainer = ElectraPretrainer(config)
    pretrainer.compile(jit_compile=xla)
    ids = tf.random.stateless_uniform((batch, seq), seed=[0, 0], minval=1000, maxval=config.vocab_size, dtype=tf.int32)
    batch_inputs = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
    # Autotuning off: each `fit` call drops its iterator, which would otherwise wait for the tf.data model
    # thread's next wake-up and add up to seconds to the timed call (`electra_tf/data/short_lived.py`).
    dataset = for_short_lived_iterator(tf.data.Dataset.from_tensors(batch_inputs).repeat())
    pretrainer.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)
    return pretrainer, dataset, config


def seconds_per_step(pretrainer, dataset, steps):
    """Wall seconds per step of `steps` train steps of `pretrainer` through `fit`."""
    start = time.perf_counter()
    pretrainer.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def time_ours(preset, batch, seq, steps, xla, precision):
    """Seconds per train step of our ElectraPretrainer through `fit` (after two warm-up steps)."""
    pretrainer, dataset, config = warm_pretrainer(preset, batch, seq, xla, precision)
    return seconds_per_step(pretrainer, dataset, steps), config


def run_json(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=["tiny", "small", "base"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--xla", action="store_true")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--mg-python", default="/tmp/mg/bin/python", help="python of a venv with tf-models-official")
    parser.add_argument("--ours-only", action="store_true", help="internal: time ours once and print JSON")
    args = parser.parse_args()

    if args.ours_only:
        seconds, _ = time_ours(args.preset, args.batch, args.seq, args.steps, args.xla, args.precision)
        print(json.dumps({"seconds_per_step": seconds}))
        return

    from electra_tf.config import ElectraConfig
    from electra_tf.flops import training_flops_per_sequence

    ours_command = [sys.executable, __file__, "--ours-only", "--preset", args.preset, "--batch", str(args.batch),
                    "--seq", str(args.seq), "--steps", str(args.steps), "--precision", args.precision]
    ours_command += ["--xla"] if args.xla else []
    peer_command = [args.mg_python, str(SHARED_BENCH / "model_garden_electra.py"), "--preset", args.preset,
                    "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps)]
    peer_command += ["--xla"] if args.xla else []
    peak_command = [sys.executable, str(SHARED_BENCH / "matmul_peak.py")]
    has_peer = pathlib.Path(args.mg_python).exists()

    ours, peer, peak = [], [], []
    for _ in range(args.rounds):
        peak.append(run_json(peak_command)["peak_gflops"])
        if has_peer:
            peer.append(run_json(peer_command)["seconds_per_step"])
        ours.append(run_json(ours_command)["seconds_per_step"])

    config = ElectraConfig.preset(args.preset, seq_length=args.seq)
    flops = training_flops_per_sequence(config)
    ours_sps = args.batch / statistics.median(ours)
    result = {
        "benchmark": "pretrain_step", "preset": args.preset, "batch": args.batch, "seq": args.seq,
        "xla": args.xla, "precision": args.precision, "cpus": os.cpu_count(), "rounds": args.rounds,
        "ours_sequences_per_second": round(ours_sps, 2),
        "ours_seconds_per_step_all": [round(s, 3) for s in ours],
        "model_flops_per_sequence": flops,
        "ours_model_gflops_per_second": round(ours_sps * flops / 1e9, 1),
        "matmul_peak_gflops": round(statistics.median(peak), 1),
        "mfu": round(ours_sps * flops / 1e9 / statistics.median(peak), 3),
    }
    if has_peer:
        peer_sps = args.batch / statistics.median(peer)
        result.update(
            model_garden_sequences_per_second=round(peer_sps, 2),
            model_garden_seconds_per_step_all=[round(s, 3) for s in peer],
            speedup_vs_model_garden=round(ours_sps / peer_sps, 2),
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
