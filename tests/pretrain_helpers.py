"""Reading a pretraining run's TensorBoard curve, for the resume tests (`test_pretrain_run.py`,
`test_pretrain_distributed.py`): a killed and resumed run must log the same curve as an uninterrupted one.
"""

from __future__ import annotations

import glob
import os


def scalar_curve(run_dir, tag="loss") -> dict:
    """step -> value of a TensorBoard scalar of the run (the chief's); later event files (a resumed run) win."""
    import tensorflow as tf

    curve = {}
    files = sorted(glob.glob(os.path.join(run_dir, "logs", "train", "events.out.tfevents.*")), key=os.path.getmtime)
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    curve[event.step] = float(tf.make_ndarray(value.tensor))
    return curve
