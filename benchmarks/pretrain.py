"""Pretraining throughput on this machine's CPU: examples/s of `tiny` and `small`, fp32 and bf16, with and
without XLA, and the scaling of `tiny` over 2 logical CPU devices (mirrored) against 1.

Each configuration runs in its own process (logical devices are fixed at start-up; XLA and dtype policies are
process-wide), trains a few steps on synthetic full-length sequences and reports the rate after the first
step (which traces and compiles). Prints one JSON line.

    python benchmarks/pretrain.py [--steps 6] [--batch-size 16] [--seq-length 128]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r"""
import json, sys, time
import tensorflow as tf
preset, precision, xla, devices, steps, batch, seq = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
if devices > 1:
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * devices)
import keras
from electra_tf import ElectraConfig, ElectraPretrainer
from electra_tf.optimization import create_optimizer
from electra_tf.training.train_step import PretrainingStep, summed_gradients_optimizer
keras.config.set_dtype_policy({"fp32": "float32", "bf16": "mixed_bfloat16"}[precision])
strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)]) if devices > 1 else tf.distribute.get_strategy()
config = ElectraConfig.preset(preset, seq_length=seq, batch_size=batch, train_steps=1000, warmup_steps=10)
with strategy.scope():
    pretrainer = ElectraPretrainer(config)
    pretrainer.compile(optimizer=summed_gradients_optimizer(create_optimizer(config)))
    pretrainer.optimizer.build(pretrainer.trainable_variables)  # slots exist before the step
ids = tf.random.stateless_uniform((batch // devices, seq), [1, 2], 1000, 20000, dtype=tf.int32)
batch_inputs = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
dataset = strategy.distribute_datasets_from_function(lambda context: tf.data.Dataset.from_tensors(batch_inputs).repeat())
step = PretrainingStep(pretrainer, pretrainer.optimizer, strategy, jit_compile=xla)
iterator = iter(dataset)
float(step(iterator)["loss"])
started = time.perf_counter()
for _ in range(steps):
    loss = float(step(iterator)["loss"])
seconds = time.perf_counter() - started
print(json.dumps({"examples_per_second": round(steps * batch / seconds, 2), "loss": loss}))
"""


def measure(preset, precision, xla, devices, steps, batch, seq) -> dict:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT}
    completed = subprocess.run(
        [sys.executable, "-c", WORKER, preset, precision, "1" if xla else "0", str(devices), str(steps), str(batch), str(seq)],
        capture_output=True, text=True, env=environment, cwd=ROOT,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-length", type=int, default=128)
    args = parser.parse_args()
    started = time.time()
    results = {}
    for preset in ("tiny", "small"):
        for precision in ("fp32", "bf16"):
            for xla in (False, True):
                name = f"{preset}/{precision}{'+xla' if xla else ''}"
                results[name] = measure(preset, precision, xla, 1, args.steps, args.batch_size, args.seq_length)
    one = measure("tiny", "fp32", False, 1, args.steps, args.batch_size, args.seq_length)
    two = measure("tiny", "fp32", False, 2, args.steps, args.batch_size, args.seq_length)
    scaling = {"tiny/fp32/1-device": one, "tiny/fp32/2-logical-devices": two}
    if "examples_per_second" in one and "examples_per_second" in two:
        scaling["speedup"] = round(two["examples_per_second"] / one["examples_per_second"], 3)
    print(json.dumps({
        "benchmark": "pretrain_cpu", "batch_size": args.batch_size, "seq_length": args.seq_length,
        "steps": args.steps, "cpu_cores": os.cpu_count(), "examples_per_second": results, "scaling": scaling,
        "note": "shared CPU: numbers are noisy; compare ratios from the same run", "seconds": round(time.time() - started, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
