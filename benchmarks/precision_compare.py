#!/usr/bin/env python3
"""bf16 against fp32: the step time of ELECTRA-Small and the loss curves of short runs, same seeds and data.

    python benchmarks/precision_compare.py                       # step time (3 rounds), 50-step curves (3 seeds)
    python benchmarks/precision_compare.py --skip-curve --rounds 5
    python benchmarks/precision_compare.py --skip-timing --curve-steps 100

Step time: `benchmarks/pretrain_step.py --ours-only` (the full recipe through `fit`, random ids), fp32 and
bf16 alternating round by round so that load on the machine hits both alike; medians. Loss curve:
`electra-tf pretrain --corpus` on the English Gutenberg sentences of ../shared/data, the same seeds (same data
order, masks and initial weights) in fp32 and bf16, `history.jsonl` read step by step: the loss averaged over
windows of `--window` steps and over `--curve-seeds` seeds must agree within `--tolerance` (relative). bf16 changes
the sampled replacements (the generator's logits are rounded), so the curves are not expected to be equal, only
close. Several seeds, because one run is not a stable yardstick: right after warm-up the discriminator sometimes
flips to calling every token replaced for a step (in the run examined step by step the loss doubled and was back
two steps later), in either precision, and whether a given run does so depends on rounding; one such step moved a
10-step window mean by 9%. `fp32_seed_spread` (how far fp32 windows move from the seed alone) and
`loss_spikes` (steps where the loss rose by more than 25% over the step before, per run) show it.
Prints one JSON line, with the CPU model and whether it has AVX512_BF16 / AMX-BF16.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from electra_tf.training.precision_support import BF16_CPU_FLAGS, cpu_flags  # noqa: E402
from machine import cpu_model  # noqa: E402


def step_seconds(precision, args):
    command = [sys.executable, str(ROOT / "benchmarks" / "pretrain_step.py"), "--ours-only", "--preset", args.preset,
               "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps), "--precision", precision]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds_per_step"]


def loss_curve(precision, seed, args, work):
    out = os.path.join(work, f"{precision}-seed{seed}")
    corpus = DATA / "corpus" / "en" / "gutenberg_sentences"
    command = [sys.executable, "-m", "electra_tf.cli.main", "pretrain", "--corpus", str(corpus),
               "--vocab", str(DATA / "vocab" / "bert-base-uncased-vocab.txt"), "--out", out, "--preset", args.preset,
               "--steps", str(args.curve_steps), "--batch-size", str(args.curve_batch or args.batch),
               "--seq-length", str(args.seq),
               "--log-every", "1", "--eval-every", "0", "--checkpoint-every", str(args.curve_steps),
               "--seed", str(seed), "--precision", precision]
    completed = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("warning: --precision")]
    with open(os.path.join(out, "history.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    losses = {row["step"]: row["loss"] for row in rows if row.get("split") == "train" and "loss" in row}
    return [losses[step] for step in sorted(losses)], warnings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--curve-steps", type=int, default=50)
    parser.add_argument("--curve-batch", type=int, default=None, help="batch of the loss curve (default --batch)")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=0.03, help="relative, on window means of the loss")
    parser.add_argument("--seed", type=int, default=0, help="first seed of the loss curves")
    parser.add_argument("--curve-seeds", type=int, default=3, help="loss curves per precision, seeds --seed onwards")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-curve", action="store_true")
    args = parser.parse_args()

    flags = cpu_flags() or set()
    result = {"benchmark": "precision_compare", "preset": args.preset, "batch": args.batch, "seq": args.seq,
              "cpu": cpu_model(), "cpus": os.cpu_count(),
              "bf16_cpu_flags": sorted(flag for flag in BF16_CPU_FLAGS if flag in flags)}
    if not args.skip_timing:
        times = {"fp32": [], "bf16": []}
        for _ in range(args.rounds):
            for precision in times:
                times[precision].append(step_seconds(precision, args))
        result.update({f"{p}_seconds_per_step": round(statistics.median(t), 3) for p, t in times.items()})
        result.update({f"{p}_seconds_per_step_all": [round(s, 3) for s in t] for p, t in times.items()})
        result["bf16_speedup_x"] = round(statistics.median(times["fp32"]) / statistics.median(times["bf16"]), 2)
    if not args.skip_curve:
        seeds = list(range(args.seed, args.seed + args.curve_seeds))
        with tempfile.TemporaryDirectory(prefix="precision-compare-") as work:
            curves, warnings = {"fp32": {}, "bf16": {}}, []
            for seed in seeds:
                for precision in curves:
                    curves[precision][seed], run_warnings = loss_curve(precision, seed, args, work)
                    warnings += run_warnings
        n = min(len(curve) for by_seed in curves.values() for curve in by_seed.values())
        windows = [(start, start + args.window) for start in range(0, n - args.window + 1, args.window)]

        def window_means(curve):
            return [statistics.mean(curve[a:b]) for a, b in windows]

        by_seed = {p: {seed: window_means(curve) for seed, curve in runs.items()} for p, runs in curves.items()}
        averaged = {p: [statistics.mean(column) for column in zip(*runs.values())] for p, runs in by_seed.items()}
        relative = [abs(b / f - 1) for f, b in zip(averaged["fp32"], averaged["bf16"])]
        fp32_spread = [(max(column) - min(column)) / statistics.mean(column)
                       for column in zip(*by_seed["fp32"].values())]
        result.update(
            curve_steps=n, curve_batch=args.curve_batch or args.batch, curve_seeds=seeds, window=args.window,
            tolerance=args.tolerance,
            fp32_window_loss=[round(x, 3) for x in averaged["fp32"]],
            bf16_window_loss=[round(x, 3) for x in averaged["bf16"]],
            window_loss_by_seed={p: {str(seed): [round(x, 3) for x in means] for seed, means in runs.items()}
                                 for p, runs in by_seed.items()},
            relative_window_difference=[round(x, 4) for x in relative],
            max_relative_window_difference=round(max(relative), 4),
            fp32_seed_spread=[round(x, 4) for x in fp32_spread],
            loss_spikes={p: {str(seed): [step + 1 for step in range(1, n) if curve[step] > 1.25 * curve[step - 1]]
                             for seed, curve in runs.items()} for p, runs in curves.items()},
            within_tolerance=max(relative) <= args.tolerance,
            bf16_warning=warnings[0] if warnings else None,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
