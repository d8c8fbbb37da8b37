"""What a pretraining run shows: a progress line (step, losses, examples/s, ETA) and a line per checkpoint.

On a terminal the line is rewritten in place after every step; in a log file (not a terminal) one line is
printed every `log_every` steps. Rates and the ETA come from a moving window, so they are right from the
first steps after a resume (unlike `keras.utils.Progbar`, whose ETA counts from step 0).

Example:
>>> display = ProgressDisplay(total_steps=100, start_step=0, examples_per_step=32, log_every=10)  # doctest: +SKIP
>>> display.update(1, {"loss": 11.2, "mlm_loss": 10.1})  # doctest: +SKIP
"""

from __future__ import annotations

import collections
import sys
import time

SHOWN_METRICS = ("loss", "mlm_loss", "rtd_loss", "mlm_accuracy", "rtd_accuracy")
RATE_WINDOW = 20  # steps in the moving window of the examples/s estimate


def format_duration(seconds: float) -> str:
    """`1:02:03`-style duration."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressDisplay:
    """Progress line and checkpoint summaries on `stream` (stderr by default).

    Args:
        total_steps: int. The step the run ends at.
        start_step: int. The step the run (re)started from.
        examples_per_step: int. The global batch size.
        log_every: int. Steps between lines when `stream` is not a terminal.
        stream: file object.
        enabled: bool. False on non-chief workers (nothing is printed).
    """

    def __init__(self, total_steps, start_step, examples_per_step, log_every, stream=None, enabled=True):
        self.total_steps = total_steps
        self.examples_per_step = examples_per_step
        self.log_every = log_every
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interactive = self.stream.isatty()
        self._times = collections.deque([(start_step, time.monotonic())], maxlen=RATE_WINDOW + 1)
        self._line_open = False
        self._first_update = True

    @property
    def examples_per_second(self) -> float:
        """Throughput over the last `RATE_WINDOW` steps (0 before the first step ends)."""
        (first_step, first_time), (last_step, last_time) = self._times[0], self._times[-1]
        if last_step == first_step or last_time <= first_time:
            return 0.0
        return (last_step - first_step) * self.examples_per_step / (last_time - first_time)

    def update(self, step: int, metrics: dict) -> None:
        """Records that `step` finished with `metrics` and shows the line when due."""
        self.record(step)
        self.show(step, metrics)

    def record(self, step: int) -> None:
        """Records the time at which `step` finished (for examples/s and the ETA)."""
        if self._first_update:  # the first step includes tracing and compilation: not part of the rate
            self._times.clear()
            self._first_update = False
        self._times.append((step, time.monotonic()))

    def exclude(self, seconds: float) -> None:
        """Leaves `seconds` just spent on something else (a held-out evaluation) out of the rate and the ETA."""
        self._times = collections.deque(((step, moment + seconds) for step, moment in self._times),
                                        maxlen=self._times.maxlen)

    def show(self, step: int, metrics: dict) -> None:
        """Shows the line for `step` when due: every step on a terminal, every `log_every` steps otherwise.

        `metrics` are shown as given (the run passes the means since the last log point, the values it logs);
        an `examples_per_second` entry replaces the display's own moving-window rate.
        """
        if not self.enabled or not (self.interactive or step % self.log_every == 0 or step == self.total_steps):
            return
        rate = metrics.get("examples_per_second", self.examples_per_second)
        steps_per_second = rate / self.examples_per_step if rate else 0.0
        eta = format_duration((self.total_steps - step) / steps_per_second) if steps_per_second else "?"
        values = " - ".join(f"{name}: {metrics[name]:.4f}" for name in SHOWN_METRICS if name in metrics)
        width = len(str(self.total_steps))
        line = (
            f"step {step:>{width}}/{self.total_steps} - {values} - {rate:,.1f} examples/s - "
            f"ETA {eta}"
        )
        if self.interactive:
            self.stream.write("\r" + line + "\x1b[K")
            self._line_open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Prints one full line (a checkpoint summary, a notice) below the progress line."""
        if not self.enabled:
            return
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False


def checkpoint_summary(step, total_steps, window_means: dict, examples_per_second, path, seconds,
                       window_steps: int | None = None) -> str:
    """The one-line summary printed after each checkpoint: means over the `window_steps` steps since the last one."""
    parts = [f"step {step}/{total_steps}"]
    if window_steps:
        parts[0] += f" (means of steps {step - window_steps + 1}-{step})"
    for name in ("loss", "mlm_loss", "rtd_loss", "mlm_accuracy", "rtd_accuracy", "learning_rate", "gradient_norm"):
        if name in window_means:
            parts.append(f"{name} {window_means[name]:.4g}")
    parts.append(f"{examples_per_second:,.1f} examples/s")
    parts.append(f"saved {path} ({seconds:.1f} s)")
    return " | ".join(parts)


VALIDATION_METRICS = ("loss", "mlm_loss", "mlm_accuracy", "mlm_accuracy_at_mask", "rtd_loss", "rtd_accuracy",
                      "rtd_precision", "rtd_recall", "rtd_auc")


def validation_summary(step, total_steps, metrics: dict, seconds) -> str:
    """The one-line summary printed after each held-out evaluation."""
    parts = [f"validation step {step}/{total_steps}"]
    parts += [f"{name} {metrics[name]:.4f}" for name in VALIDATION_METRICS if name in metrics]
    parts.append(f"{int(metrics.get('examples', 0)):,} examples ({seconds:.1f} s)")
    return " | ".join(parts)
