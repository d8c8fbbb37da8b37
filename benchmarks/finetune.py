#!/usr/bin/env python3
"""Fine-tuning step throughput: our `ElectraSequenceClassifier` beside Hugging Face's PyTorch model.

    python benchmarks/finetune.py --preset small --seq 128 --batch 32 --steps 5 --rounds 3 [--xla]

Each round runs, in fresh subprocesses one after the other (so load on the machine hits both alike), a
training step on the SAME batch (random token ids from a fixed seed, a real pair layout, 2 labels) of:

- ours: `ElectraSequenceClassifier` compiled with the fine-tuning optimizer (`ElectraAdamW`, layer-wise LR
  multipliers, global-norm clipping), stepped through Keras' compiled `train_function` (`train_on_batch`),
  as `electra-tf finetune` trains;
- Hugging Face `transformers.ElectraForSequenceClassification` (PyTorch, CPU; its head has one more
  hidden-size dense layer than the reference's, a negligible share of the FLOPs), forward + cross-entropy +
  backward + `torch.optim.AdamW` step + global-norm clipping 1.0, `zero_grad(set_to_none=True)`.

Both: the `--preset` discriminator (Small: 12 x 256, embedding 128, vocabulary 30522), float32, dropout 0.1,
two warm-up steps excluded; `--threads N` sets both frameworks' intra-op threads (on a loaded machine,
PyTorch's default OpenMP spinning can slow it by orders of magnitude). Prints one JSON line: per framework the median examples/s over rounds, every round's
value, and the ratio ours / Hugging Face (the goal: >= 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

VOCAB_SIZE = 30522


def make_batch(batch: int, seq: int, seed: int = 0):
    """int32 ids / mask / type ids of `[CLS] A [SEP] B [SEP]` pairs with some padding, and int labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, VOCAB_SIZE, (batch, seq)).astype(np.int32)
    lengths = rng.integers(seq // 2, seq + 1, batch)
    mask = (np.arange(seq)[None] < lengths[:, None]).astype(np.int32)
    split = lengths // 2
    types = ((np.arange(seq)[None] > split[:, None]) & (mask > 0)).astype(np.int32)
    ids[:, 0] = 101
    ids[np.arange(batch), split] = 102
    ids[np.arange(batch), lengths - 1] = 102
    ids *= mask
    labels = rng.integers(0, 2, batch).astype(np.int32)
    return ids, mask, types, labels


def time_ours(preset: str, batch: int, seq: int, steps: int, xla: bool) -> float:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from electra_tf import ElectraConfig
    from electra_tf.finetuning.options import FinetuneOptions
    from electra_tf.finetuning.training import create_finetuning_optimizer
    from electra_tf.models import ElectraSequenceClassifier

    config = ElectraConfig.preset(preset, seq_length=seq)
    model = ElectraSequenceClassifier(config, num_labels=2)
    options = FinetuneOptions(task="classification", model="-", train="-", out="-").resolved(config)
    model.compile(optimizer=create_finetuning_optimizer(model, options, total_steps=1000), jit_compile=xla)
    ids, mask, types, labels = make_batch(batch, seq)
    inputs = {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}
    for _ in range(2):
        model.train_on_batch(inputs, labels)
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(inputs, labels)
    float(loss[0] if isinstance(loss, (list, tuple)) else loss)
    return time.perf_counter() - start


def time_hf(preset: str, batch: int, seq: int, steps: int) -> float:
    import torch
    import transformers

    from electra_tf.config import ElectraConfig

    ours = ElectraConfig.preset(preset, seq_length=seq)  # the same architecture as ours
    torch.manual_seed(0)
    config = transformers.ElectraConfig(
        vocab_size=ours.vocab_size, embedding_size=ours.embedding_size, hidden_size=ours.hidden_size,
        num_hidden_layers=ours.num_layers, num_attention_heads=ours.num_heads,
        intermediate_size=ours.intermediate_size, max_position_embeddings=ours.max_position_embeddings, num_labels=2,
    )
    model = transformers.ElectraForSequenceClassification(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, eps=1e-6, weight_decay=0.01)
    ids, mask, types, labels = make_batch(batch, seq)
    tensors = dict(input_ids=torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask, dtype=torch.long),
                   token_type_ids=torch.tensor(types, dtype=torch.long), labels=torch.tensor(labels, dtype=torch.long))

    def step():
        loss = model(**tensors).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)
    return time.perf_counter() - start


def _child(args) -> None:
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        if args.child == "ours":
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        else:
            import torch

            torch.set_num_threads(args.threads)
    if args.child == "ours":
        seconds = time_ours(args.preset, args.batch, args.seq, args.steps, args.xla)
    else:
        seconds = time_hf(args.preset, args.batch, args.seq, args.steps)
    print(json.dumps({"seconds": seconds}))


def _run_child(kind: str, args) -> float:
    command = [sys.executable, os.path.abspath(__file__), "--child", kind, "--preset", args.preset, "--seq",
               str(args.seq), "--batch", str(args.batch), "--steps", str(args.steps), "--threads", str(args.threads)] + (
        ["--xla"] if args.xla else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{completed.stderr[-2000:]}")
    seconds = json.loads(completed.stdout.strip().splitlines()[-1])["seconds"]
    return args.batch * args.steps / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="small", help="model size (both frameworks build this architecture)")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round (after 2 warm-up steps)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--xla", action="store_true", help="compile our step with XLA (jit_compile)")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads for both frameworks (0: each framework's default)")
    parser.add_argument("--child", choices=("ours", "hf"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    results = {"ours": [], "hf": []}
    for round_index in range(args.rounds):
        for kind in ("ours", "hf"):
            rate = _run_child(kind, args)
            results[kind].append(round(rate, 2))
            print(f"round {round_index + 1}/{args.rounds} {kind}: {rate:.2f} examples/s", file=sys.stderr, flush=True)
    ours, hf = round(statistics.median(results["ours"]), 2), round(statistics.median(results["hf"]), 2)
    import torch
    import transformers

    print(json.dumps({
        "benchmark": "finetune_step", "model": f"ELECTRA-{args.preset} discriminator + sequence classification head",
        "preset": args.preset, "seq_length": args.seq, "batch": args.batch, "steps_per_round": args.steps,
        "rounds": args.rounds, "xla": args.xla,
        "ours_examples_per_second": ours, "hf_pytorch_examples_per_second": hf,
        "ratio_ours_over_hf": round(ours / hf, 3) if hf else None,
        "ours_rounds": results["ours"], "hf_rounds": results["hf"],
        "torch": torch.__version__, "transformers": transformers.__version__,
        "threads": args.threads or "default", "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
