"""Whether this machine computes in bfloat16 natively, and the warning `pretrain --precision bf16` prints if not.

On a CPU, bf16 pays only with bf16 dot-product instructions: AVX512_BF16 (`avx512_bf16` in /proc/cpuinfo:
AMD Zen 4 and later, Intel Cooper Lake / Sapphire Rapids) or AMX (`amx_bf16`: Intel Sapphire Rapids and
later), which oneDNN uses for TensorFlow's matmuls. Without them, bf16 matmuls are emulated through fp32 and
the casts make the step slower than fp32. GPUs and TPUs are not checked here (bf16 needs Ampere or a TPU there).

Example:
>>> print(precision_warning("bf16", accelerator=False, flags={"avx2", "fma"})[:61])
warning: --precision bf16 on a CPU without AVX512_BF16 or AMX
>>> precision_warning("bf16", accelerator=False, flags={"avx512_bf16"}) is None
True
"""

from __future__ import annotations

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # as /proc/cpuinfo and `lscpu` spell them


def cpu_flags(cpuinfo_path: str = "/proc/cpuinfo") -> set[str] | None:
    """The instruction-set flags of the first CPU in `cpuinfo_path`, or None where there is no such file."""
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def cpu_has_native_bf16(flags: set[str] | None = None) -> bool | None:
    """True with AVX512_BF16 or AMX-BF16, False without, None when the flags cannot be read (not Linux)."""
    flags = cpu_flags() if flags is None else flags
    if flags is None:
        return None
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def _has_accelerator() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))


def precision_warning(precision: str, accelerator: bool | None = None, flags: set[str] | None = None) -> str | None:
    """A one-line warning when `precision` is bf16 on a CPU that lacks bf16 instructions, else None.

    Args:
        precision: str. `fp32`, `bf16` or `fp16` (the `--precision` choices).
        accelerator: bool | None. Whether the run uses a GPU or TPU; None asks TensorFlow.
        flags: set of str | None. The CPU's flags; None reads /proc/cpuinfo.

    Returns:
        str | None. The warning line; None when there is nothing to warn about or the CPU cannot be read.
    """
    if precision != "bf16":
        return None
    if accelerator is None:
        accelerator = _has_accelerator()
    if accelerator or cpu_has_native_bf16(flags) is not False:
        return None
    return ("warning: --precision bf16 on a CPU without AVX512_BF16 or AMX-BF16 (lscpu flags avx512_bf16, amx_bf16) "
            "is emulated and slower than fp32; use --precision fp32.")
