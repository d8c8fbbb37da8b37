#!/usr/bin/env python3
"""Scaling table: ELECTRA-Small train-step time and peak memory at seq 128/256/512 x batch 16/32/64, ours and
TF Model Garden's at the same points.

    python benchmarks/pretrain_scaling.py                                   # the full table (CPU-heavy)
    python benchmarks/pretrain_scaling.py --seqs 128 --batches 32 --rounds 1 # one point
    python benchmarks/pretrain_scaling.py --mg-python /tmp/mg/bin/python --markdown

Each point runs in fresh processes: ours through `benchmarks/pretrain_step.py --ours-only` (the full recipe:
ElectraAdamW, clipping, schedule, dropout 0.1, through `fit`) and Model Garden's ElectraPretrainer through
`../shared/bench/model_garden_electra.py` in the virtual environment of --mg-python (tf-models-official 2.20:
`python -m venv /tmp/mg && /tmp/mg/bin/pip install tf-models-official==2.20.0`), alternating round by round.
Step time is the median over rounds; peak memory is the largest resident set size (ru_maxrss of that child
process, so the TensorFlow runtime, the weights, optimizer slots and activations) over rounds. Prints one JSON
line per point as it goes, then a JSON summary (and a Markdown table with --markdown).
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
SHARED_BENCH = ROOT.parent / "shared" / "bench"


def run_measured(command: list[str]) -> tuple[dict, float]:
    """Runs `command`; returns (its last stdout line as JSON, its peak resident set size in MiB)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryFile("w+") as stderr:  # a file, not a pipe: a chatty child cannot block on it
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
        stdout = process.stdout.read()
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stderr.read()[-2000:]}")
    return json.loads(stdout.strip().splitlines()[-1]), usage.ru_maxrss / 1024  # Linux: KiB


def measure_point(seq: int, batch: int, args) -> dict:
    ours_command = [sys.executable, str(ROOT / "benchmarks" / "pretrain_step.py"), "--ours-only", "--preset",
                    args.preset, "--batch", str(batch), "--seq", str(seq), "--steps", str(args.steps)]
    peer_command = [args.mg_python, str(SHARED_BENCH / "model_garden_electra.py"), "--preset", args.preset,
                    "--batch", str(batch), "--seq", str(seq), "--steps", str(args.steps)]
    has_peer = pathlib.Path(args.mg_python).exists()
    point = {"seq": seq, "batch": batch}
    times = {"ours": [], "model_garden": []}
    for _ in range(args.rounds):
        for name, command in (("model_garden", peer_command if has_peer else None), ("ours", ours_command)):
            if command is None or f"{name}_error" in point:
                continue
            try:
                result, mib = run_measured(command)
            except RuntimeError as error:  # e.g. killed for memory (exit -9): the point says so, the table goes on
                point[f"{name}_error"] = str(error).splitlines()[0][-200:]
                continue
            times[name].append(result["seconds_per_step"])
            point[f"{name}_peak_rss_mib"] = max(point.get(f"{name}_peak_rss_mib", 0), round(mib))
    for name, values in times.items():
        if values:
            point[f"{name}_seconds_per_step"] = round(statistics.median(values), 4)
            point[f"{name}_sequences_per_second"] = round(batch / statistics.median(values), 2)
    if times["ours"] and times["model_garden"]:
        point["speedup_vs_model_garden"] = round(statistics.median(times["model_garden"]) /
                                                 statistics.median(times["ours"]), 2)
    return point


def markdown(points: list[dict]) -> str:
    lines = ["| seq | batch | ours s/step | MG s/step | ours / MG speed | ours peak MiB | MG peak MiB |",
             "|---|---|---|---|---|---|---|"]
    for p in points:
        failed = {name: "failed" for name in ("ours", "model_garden") if f"{name}_error" in p}
        lines.append(f"| {p['seq']} | {p['batch']} | {p.get('ours_seconds_per_step', failed.get('ours', '-'))} | "
                     f"{p.get('model_garden_seconds_per_step', failed.get('model_garden', '-'))} | "
                     f"{p.get('speedup_vs_model_garden', '-')} | {p.get('ours_peak_rss_mib', '-')} | "
                     f"{p.get('model_garden_peak_rss_mib', '-')} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=["tiny", "small", "base"])
    parser.add_argument("--seqs", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per process (after two warm-up steps)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mg-python", default="/tmp/mg/bin/python", help="python of a venv with tf-models-official")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args()

    points = []
    for seq in args.seqs:
        for batch in args.batches:
            points.append(measure_point(seq, batch, args))
            print(json.dumps(points[-1]), flush=True)
    print(json.dumps({"benchmark": "pretrain_scaling", "preset": args.preset, "cpus": os.cpu_count(),
                      "steps": args.steps, "rounds": args.rounds, "points": points}))
    if args.markdown:
        print(markdown(points))


if __name__ == "__main__":
    main()
