"""`pretrain --precision bf16` warns, on a CPU without bf16 instructions, that fp32 is faster there."""

from electra_tf.training.precision_support import cpu_flags, cpu_has_native_bf16, precision_warning

ZEN3 = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx2 fma avx512f\n\nprocessor\t: 1\n"
ZEN4 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n"
SAPPHIRE_RAPIDS = "flags\t\t: avx512f amx_tile amx_int8 amx_bf16\n"


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(ZEN3)
    assert cpu_flags(str(path)) == {"fpu", "sse2", "avx2", "fma", "avx512f"}
    assert cpu_flags(str(tmp_path / "absent")) is None
    for text, native in ((ZEN3, False), (ZEN4, True), (SAPPHIRE_RAPIDS, True)):
        path.write_text(text)
        assert cpu_has_native_bf16(cpu_flags(str(path))) is native


def test_bf16_on_a_cpu_without_bf16_units_suggests_fp32():
    warning = precision_warning("bf16", accelerator=False, flags={"avx2", "avx512f"})
    assert warning.startswith("warning: --precision bf16 on a CPU without AVX512_BF16 or AMX-BF16")
    assert warning.endswith("use --precision fp32.") and "\n" not in warning


def test_no_warning_where_bf16_is_native_or_not_asked_for_or_unknown():
    assert precision_warning("bf16", accelerator=False, flags={"avx512_bf16"}) is None
    assert precision_warning("bf16", accelerator=False, flags={"amx_bf16"}) is None
    assert precision_warning("bf16", accelerator=True, flags={"avx2"}) is None  # a GPU/TPU run
    assert precision_warning("fp32", accelerator=False, flags={"avx2"}) is None
    assert precision_warning("bf16", accelerator=False, flags=None) is None or cpu_has_native_bf16() is False
