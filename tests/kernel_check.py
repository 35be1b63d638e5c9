"""Shared check for kernel tests: compile a model, run random inputs on host C and on TFLM.

Every kernel has up to three paths (runtime/kernels/mcf_dsp.h): the portable reference loop, the
portable fast path, and the DSP path. The host builds the library once per path: by default (the
fast path), with -DMCF_PORTABLE_KERNELS (the reference loops) and with -DMCF_EMULATE_DSP (the DSP
paths, their instructions written in C); tests/test_kernels_on_device.py runs the real DSP
instructions under QEMU.
"""

from __future__ import annotations

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import ValidationResult, random_inputs, validate_compiled

KERNEL_PATHS: dict[str, tuple[str, ...]] = {
    "fast": (),
    "portable": ("-DMCF_PORTABLE_KERNELS",),
    "dsp-emulated": ("-DMCF_EMULATE_DSP",),
}
# The RV32 paths (MCF_KERNELS_RV32) in portable C, for the kernels that have them: not among the
# paths every test runs (tests/test_kernel_rv32.py passes it to check_bit_exact).
RV32_PATH: dict[str, tuple[str, ...]] = {"rv32-emulated": ("-DMCF_EMULATE_RV32",)}


def check_bit_exact(model: bytes, count: int = 4, seed: int = 0, separate_io: bool = False,
                    paths: tuple[str, ...] = tuple(KERNEL_PATHS)) -> ValidationResult:
    """Bit-exact on every kernel path; operators that have a scratch-free fallback (convolutions
    without a hole for their im2col scratch) are also checked with the scratch (--fast-scratch)."""
    graph = parse_model(model, name="test.tflite")
    plans = [compile_graph(graph, separate_io=separate_io)]
    grown = compile_graph(graph, separate_io=separate_io, scratch_may_grow_arena=True)
    if [c.scratch_bytes for c in grown.calls] != [c.scratch_bytes for c in plans[0].calls]:
        plans.append(grown)
    inputs = random_inputs(graph, count, seed)
    result = None
    for cm in plans:
        for path in paths:
            result = validate_compiled(cm, model, inputs, extra_flags={**KERNEL_PATHS, **RV32_PATH}[path])
            assert result.bit_exact == result.inputs, (path, result.to_json())
            assert result.max_abs_diff == 0, path
    assert result is not None
    return result


def check_cases_bit_exact(models: dict[str, bytes], count: int = 3) -> ValidationResult:
    """Each case on its own compiles to kernel calls (nothing folded away), and all of them side by
    side in one model (one host build per kernel path) are bit-exact."""
    from test_kernels_on_device import merge_parallel  # here: that module imports kernel tests that import this one

    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls, name
    result = check_bit_exact(merge_parallel(models), count=count)
    assert result.bit_exact == count
    return result


def generic_entry_points(monkeypatch, opcode: str, generic: str) -> None:
    """Lower `opcode` to the kernel's run-time dispatcher (`generic`, every path linked) instead of
    the entry point of the path the compiler chose: the dispatcher must pick the same path."""
    from dataclasses import replace

    from mcuforge.generator.ops import base

    lower = base.registry()[opcode]

    def generic_call(call):
        if call is None:
            return None
        return replace(call, function=generic, fallback=generic_call(call.fallback),
                       in_place=generic_call(call.in_place))

    monkeypatch.setitem(base._REGISTRY, opcode, lambda graph, op: generic_call(lower(graph, op)))
