"""The machine a benchmark ran on, for its JSON line.

Example:
>>> cpu_model()  # doctest: +SKIP
'AMD EPYC'
"""

import platform


def cpu_model() -> str:
    """The CPU's model name as `lscpu` shows it (`/proc/cpuinfo`), or `platform.processor()` where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()
