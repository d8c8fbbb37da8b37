"""`RunCheckpoints`: rolling, atomic checkpoints of a pretraining run, and resuming from the newest good one.

A checkpoint holds the pretrainer's variables (both networks and `step_counter`, the run's step and the key of
its masking and sampling streams), the states of its dropout seed generators, and the optimizer's variables
(slots and `iterations`, the learning-rate schedule's position). The dataset position follows from the step
(`inputs.py`).

Atomicity: TensorFlow writes a checkpoint's data into temporary files and its `.index` last, and
`tf.train.CheckpointManager` rewrites its `checkpoint` state file (atomically) only after that, so a process
killed mid-save leaves at worst an unreferenced partial checkpoint. On restore, candidates are all
`ckpt-<step>.index` files, newest first; one that fails to read (truncated, missing data, checksum error) is
reported with a warning and the previous one is tried.

Multi-worker: every worker takes part in each save (the strategy may synchronise), non-chief workers write
into a private temporary folder that is deleted right after, and all restore from the chief's folder.

Example:
>>> checkpoints = RunCheckpoints(tf.train.Checkpoint(model=pretrainer), "run/checkpoints", keep=3)  # doctest: +SKIP
>>> step = checkpoints.restore_latest()  # 0 for a new run  # doctest: +SKIP
>>> checkpoints.save(step=100)  # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sys

import tensorflow as tf

from electra_tf.errors import InputError

CHECKPOINT_PREFIX = "ckpt"
_INDEX_PATTERN = re.compile(rf"{CHECKPOINT_PREFIX}-(\d+)\.index$")


def checkpoint_steps(directory) -> list[int]:
    """Steps of the checkpoints whose index file exists in `directory`, ascending."""
    steps = []
    for path in glob.glob(os.path.join(os.fspath(directory), f"{CHECKPOINT_PREFIX}-*.index")):
        match = _INDEX_PATTERN.search(os.path.basename(path))
        if match:
            steps.append(int(match.group(1)))
    return sorted(steps)


class RunCheckpoints:
    """Saves and restores a `tf.train.Checkpoint` in a run's `checkpoints/` folder.

    Args:
        checkpoint: tf.train.Checkpoint of the model and optimizer.
        directory: str. The chief's checkpoint folder.
        keep: int. Checkpoints kept (older ones are deleted after a successful save).
        chief: bool. Whether this process owns `directory` (False on non-chief workers).
        worker_name: str. Names the temporary folder of a non-chief worker.
        warn: callable taking a message; defaults to a line on stderr.
    """

    def __init__(self, checkpoint, directory, keep=3, chief=True, worker_name="chief", warn=None):
        self.checkpoint = checkpoint
        self.directory = os.fspath(directory)
        self.chief = chief
        self._warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr, flush=True))
        save_directory = self.directory if chief else os.path.join(self.directory, f".tmp-{worker_name}")
        self._save_directory = save_directory
        self.manager = tf.train.CheckpointManager(
            checkpoint, save_directory, max_to_keep=keep, checkpoint_name=CHECKPOINT_PREFIX
        )

    def restore_latest(self) -> int | None:
        """Restores the newest readable checkpoint; returns its step, or None when there is none.

        Raises:
            InputError: checkpoints exist but none of them can be read.
        """
        steps = checkpoint_steps(self.directory)
        for step in reversed(steps):
            path = os.path.join(self.directory, f"{CHECKPOINT_PREFIX}-{step}")
            try:
                self.checkpoint.read(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, AssertionError, IndexError) as error:  # IndexError: short read
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                self._warn(f"checkpoint {path} is incomplete or corrupt ({reason[:200]}); trying the previous one.")
                continue
            return step
        if steps:
            raise InputError(
                f"None of the {len(steps)} checkpoint(s) in {self.directory!r} can be read. Move the folder away "
                "to start over, or choose a new --out."
            )
        return None

    def save(self, step: int) -> str:
        """Writes the checkpoint of `step` (every worker must call this); returns its path."""
        path = self.manager.save(checkpoint_number=step)
        if not self.chief:
            shutil.rmtree(self._save_directory, ignore_errors=True)
        return path
