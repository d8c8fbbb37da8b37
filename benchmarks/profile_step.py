#!/usr/bin/env python3
"""Where the ELECTRA train step's time goes: `tf.profiler` op times by op type, with dropout on and off.

    python benchmarks/profile_step.py --preset small --batch 32 --seq 128 --steps 2

For each dropout rate (default 0.1, the recipe's, and 0.0) runs, in a fresh process: two warm-up steps of
`ElectraPretrainer.fit`, two timed steps, then `--steps` steps under `tf.profiler.experimental`, and sums the
trace's op events (the TensorFlow executor threads of the host plane) by op type, wrappers left out. Prints one
JSON line: seconds per step and the `--top` op types by milliseconds per step, per dropout rate.
"""

import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile

# Events that wrap op events on the same threads (the executor's per-op `Process`, Eigen's `ParallelFor`
# inside a kernel); counting them would count the ops twice.
WRAPPER_EVENTS = ("Process", "ParallelFor")


def profile_once(preset, batch, seq, steps, dropout, logdir):
    """Seconds per step (timed outside the profiler) and the profile written to `logdir`."""
    import tensorflow as tf

    from pretrain_step import seconds_per_step, warm_pretrainer

    pretrainer, dataset, _ = warm_pretrainer(preset, batch, seq, hidden_dropout=dropout, attention_dropout=dropout)
    seconds = seconds_per_step(pretrainer, dataset, 2)
    tf.profiler.experimental.start(logdir)
    pretrainer.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    tf.profiler.experimental.stop()
    return seconds


def op_milliseconds(logdir):
    """Milliseconds by op type summed over the executor threads (`tf_Compute*`) of the trace in `logdir`."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    (trace,) = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    space = xplane_pb2.XSpace()
    with open(trace, "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.Counter()
    for plane in space.planes:
        names = {key: metadata.name for key, metadata in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                op_type = names.get(event.metadata_id, "?").rsplit(":", 1)[-1]
                if op_type in WRAPPER_EVENTS:
                    continue
                totals[op_type] += event.duration_ps / 1e9
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=["tiny", "small", "base"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2, help="profiled steps")
    parser.add_argument("--dropout", type=float, nargs="+", default=[0.1, 0.0])
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--once", type=float, help="internal: profile one dropout rate and print JSON")
    args = parser.parse_args()

    if args.once is not None:
        with tempfile.TemporaryDirectory() as logdir:
            seconds = profile_once(args.preset, args.batch, args.seq, args.steps, args.once, logdir)
            totals = op_milliseconds(logdir)
        per_step = {name: round(ms / args.steps, 1) for name, ms in totals.most_common(args.top)}
        print(json.dumps({"dropout": args.once, "seconds_per_step": round(seconds, 3),
                          "op_ms_per_step_total": round(sum(totals.values()) / args.steps, 1),
                          "op_ms_per_step": per_step}))
        return
    runs = []
    for rate in args.dropout:
        command = [sys.executable, __file__, "--once", str(rate), "--preset", args.preset, "--batch", str(args.batch),
                   "--seq", str(args.seq), "--steps", str(args.steps), "--top", str(args.top)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "profile_step", "preset": args.preset, "batch": args.batch, "seq": args.seq,
                      "threads": {name: os.environ.get(name) for name in
                                  ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")},
                      "runs": runs}))


if __name__ == "__main__":
    main()
