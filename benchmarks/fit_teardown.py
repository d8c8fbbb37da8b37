#!/usr/bin/env python3
"""How long `Model.fit` waits after its last step, with tf.data autotuning on (TF's default) and off.

    python benchmarks/fit_teardown.py --calls 4 --steps 5

Warms up ELECTRA-Small (batch 32 × 128, the full recipe, as `pretrain_step.py` does), then alternates `fit`
calls of --steps steps on the same endless one-batch dataset with autotuning on and off
(`electra_tf.data.short_lived`). A callback stamps the end of every step; `teardown_seconds` is the time
from the last step's end to `fit` returning, which is when the call's tf.data iterator is dropped. Prints one
JSON line.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small", choices=["tiny", "small", "base"])
    parser.add_argument("--calls", type=int, default=4, help="fit calls per setting")
    parser.add_argument("--steps", type=int, default=5, help="steps per fit call")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from pretrain_step import warm_pretrainer

    pretrainer, short_lived, _ = warm_pretrainer(args.preset, 32, 128)
    autotuned_options = tf.data.Options()
    autotuned_options.autotune.enabled = True
    datasets = {"on": short_lived.with_options(autotuned_options), "off": short_lived}

    class StepEnds(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    calls = []
    for _ in range(args.calls):
        for autotune, dataset in datasets.items():
            stamps = StepEnds()
            start = time.perf_counter()
            pretrainer.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0, callbacks=[stamps])
            returned = time.perf_counter()
            calls.append({
                "autotune": autotune,
                "steps_seconds": round(stamps.ends[-1] - start, 3),
                "returned_seconds": round(returned - start, 3),
                "teardown_seconds": round(returned - stamps.ends[-1], 3),
            })

    def median(autotune, name):
        return round(statistics.median(call[name] for call in calls if call["autotune"] == autotune), 3)

    print(json.dumps({
        "benchmark": "fit_teardown", "preset": args.preset, "batch": 32, "seq": 128, "steps_per_call": args.steps,
        "calls": calls,
        "median_teardown_seconds": {setting: median(setting, "teardown_seconds") for setting in datasets},
        "median_seconds_per_step_through_fit": {
            setting: round(median(setting, "returned_seconds") / args.steps, 3) for setting in datasets
        },
    }))


if __name__ == "__main__":
    main()
