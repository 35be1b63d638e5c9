"""Index maps of the layout operators, lowered to the one strided copy (runtime/kernels/strided_copy.c).

An operator that only moves data writes its output in row-major order, each output element read
from the input at `start + sum(index[k] * step[k])` (element units, steps of any sign, 0 for a
broadcast dimension). `strided_copy_call` turns such a map into the kernel's loops: dimensions
of extent 1 dropped, neighbours that walk the input as one merged, the innermost dimension folded
into the copied run when it is contiguous in the input, and everything in bytes.
"""

from __future__ import annotations

from ..ir import DTYPE_BYTES, Operator, Tensor
from .base import KernelCall, reject

COPY_LOOPS = 6  # MCF_COPY_LOOPS in strided_copy.h


def copy_loops(counts: list[int], steps: list[int], elem: int) -> tuple[list[int], list[int], int]:
    """(counts, byte steps, run bytes) of the kernel's loops for an element index map."""
    dims = [(c, s * elem) for c, s in zip(counts, steps, strict=True) if c != 1]
    merged: list[tuple[int, int]] = []
    for c, s in dims:
        if merged and merged[-1][1] == s * c:  # the outer dimension continues the inner one
            merged[-1] = (merged[-1][0] * c, s)
        else:
            merged.append((c, s))
    run = elem
    if merged and merged[-1][1] == run:  # contiguous innermost dimension: one run
        run *= merged.pop()[0]
    return [c for c, _ in merged], [s for _, s in merged], run


def strided_copy_call(op: Operator, inp: Tensor, counts: list[int], steps: list[int], start: int,
                      comment: str = "") -> KernelCall:
    elem = DTYPE_BYTES[inp.dtype]
    loop_counts, loop_steps, run = copy_loops(counts, steps, elem)
    if len(loop_counts) > COPY_LOOPS:
        raise reject(op, f"the copy needs {len(loop_counts)} nested loops; at most {COPY_LOOPS} are supported")
    if any(c == 0 for c in counts):
        loop_counts, loop_steps = [0], [0]  # an empty output: nothing to copy
    pad = COPY_LOOPS - len(loop_counts)
    loop_counts = [1] * pad + loop_counts
    loop_steps = [0] * pad + loop_steps
    return KernelCall(
        op=op,
        kernel="strided_copy",
        function="mcf_strided_copy",
        params_type="mcf_strided_copy_params",
        params={"count": _c_array(loop_counts), "step": _c_array(loop_steps), "start": start * elem, "run": run},
        args=[op.inputs[0], op.outputs[0]],
        comment=comment,
    )


def apply_loops(params: dict, data: bytes) -> bytes:
    """What the kernel writes for `params` (a strided_copy_call's params) and input bytes: the
    same loops in Python, for tests."""
    counts = [int(x) for x in str(params["count"]).strip("{}").split(",")]
    steps = [int(x) for x in str(params["step"]).strip("{}").split(",")]
    run = int(params["run"])
    out = bytearray()

    def walk(level: int, at: int) -> None:
        for i in range(counts[level]):
            pos = at + i * steps[level]
            if level == COPY_LOOPS - 1:
                out.extend(data[pos:pos + run])
            else:
                walk(level + 1, pos)

    walk(0, int(params["start"]))
    return bytes(out)


def row_major_steps(shape: tuple[int, ...] | list[int]) -> list[int]:
    """Element steps of each dimension of a row-major tensor."""
    steps = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        steps[k] = steps[k + 1] * shape[k + 1]
    return steps


def require_types(op: Operator, allowed: tuple[str, ...], *tensors: Tensor) -> None:
    """The element types TFLite Micro's kernel for `op` accepts (the integer ones)."""
    for t in tensors:
        if t.dtype not in allowed:
            raise reject(op, f"tensor '{t.name}' is {t.dtype}; TFLite Micro's {op.opcode} takes "
                             f"{', '.join(allowed)} here")


def _c_array(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"
