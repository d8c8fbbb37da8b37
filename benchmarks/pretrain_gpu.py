"""ELECTRA-Base pretraining throughput on one GPU (seq 128, bf16 + XLA, synthetic data), self-checking.

Prints one JSON line with sequences/s beside NVIDIA's published figure for ELECTRA-Base pretraining on one
A100 in mixed precision (955 sequences/s, DeepLearningExamples TensorFlow2/LanguageModeling/ELECTRA), and
whether it meets this project's target on an H100/H200 (at least 2x that). Checks before reporting: a GPU is
visible and used, the policy is mixed_bfloat16 with float32 master weights, the step is XLA-compiled, the
losses are finite and fall over the timed steps. Refuses (exit 2) when no GPU is visible.

    python benchmarks/pretrain_gpu.py [--batch-size 176] [--steps 50] [--warmup 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

NVIDIA_A100_SEQUENCES_PER_SECOND = 955.0
TARGET_MULTIPLE = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=176, help="sequences per step (NVIDIA's phase-1 batch)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps (tracing, XLA compilation)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print("pretrain_gpu: error: no GPU is visible to TensorFlow (tf.config.list_physical_devices('GPU') is "
              "empty); this benchmark measures one GPU and reports nothing on a CPU.", file=sys.stderr)
        return 2
    from electra_tf import ElectraConfig, ElectraPretrainer
    from electra_tf.optimization import create_optimizer
    from electra_tf.training.train_step import PretrainingStep, summed_gradients_optimizer

    keras.config.set_dtype_policy("mixed_bfloat16")
    config = ElectraConfig.preset("base", seq_length=128, batch_size=args.batch_size, train_steps=100_000,
                                  warmup_steps=10)
    strategy = tf.distribute.OneDeviceStrategy("/gpu:0")
    with strategy.scope():
        pretrainer = ElectraPretrainer(config)
        pretrainer.compile(optimizer=summed_gradients_optimizer(create_optimizer(config)))
        pretrainer.optimizer.build(pretrainer.trainable_variables)  # slots exist before the step
    # Synthetic but realistic input: random ids over the vocabulary, 2 segments, 10% padding in a quarter of rows.
    ids = tf.random.stateless_uniform((args.batch_size, 128), [7, 1], 1000, config.vocab_size, dtype=tf.int32)
    lengths = tf.where(tf.range(args.batch_size) % 4 == 0, 115, 128)
    mask = tf.cast(tf.range(128)[tf.newaxis] < lengths[:, tf.newaxis], tf.int32)
    ids = tf.concat([tf.fill([args.batch_size, 1], config.cls_id), ids[:, 1:]], axis=1) * mask
    inputs = {"input_word_ids": ids, "input_mask": mask,
              "input_type_ids": tf.cast(tf.range(128)[tf.newaxis] >= 64, tf.int32) * mask}
    dataset = strategy.distribute_datasets_from_function(lambda context: tf.data.Dataset.from_tensors(inputs).repeat())
    step = PretrainingStep(pretrainer, pretrainer.optimizer, strategy, jit_compile=True)
    iterator = iter(dataset)
    for _ in range(args.warmup):
        step(iterator)
    losses = []
    started = time.perf_counter()
    for _ in range(args.steps):
        logs = step(iterator)
        losses.append(logs["loss"])
    losses = [float(loss) for loss in losses]  # one sync at the end: the timing includes all device work
    seconds = time.perf_counter() - started
    sequences_per_second = args.steps * args.batch_size / seconds

    checks = {
        "gpu_used": "GPU" in pretrainer.trainable_variables[0].value.device.upper(),
        "mixed_bfloat16_compute": pretrainer.discriminator.dtype_policy.compute_dtype == "bfloat16",
        "float32_master_weights": all(v.dtype == "float32" for v in pretrainer.trainable_variables),
        "finite_losses": all(math.isfinite(loss) for loss in losses),
        "loss_falls": sum(losses[-5:]) / 5 < sum(losses[:5]) / 5,
    }
    gpu_name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    print(json.dumps({
        "benchmark": "pretrain_gpu", "model": "ELECTRA-Base", "gpu": gpu_name, "seq_length": 128,
        "batch_size": args.batch_size, "precision": "bf16", "xla": True, "timed_steps": args.steps,
        "sequences_per_second": round(sequences_per_second, 1),
        "nvidia_a100_sequences_per_second": NVIDIA_A100_SEQUENCES_PER_SECOND,
        "ratio_to_a100": round(sequences_per_second / NVIDIA_A100_SEQUENCES_PER_SECOND, 3),
        "meets_h100_h200_target": sequences_per_second >= TARGET_MULTIPLE * NVIDIA_A100_SEQUENCES_PER_SECOND,
        "first_loss": round(losses[0], 4), "last_loss": round(losses[-1], 4), "checks": checks,
    }))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
