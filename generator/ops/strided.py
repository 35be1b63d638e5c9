"""Index maps of the layout operators, lowered to the one strided copy (runtime/kernels/strided_copy.c).

An operator that only moves data fills its row-major output with, for each output element, the
input element at `start + sum(index[k] * step[k])` (element units, steps of any sign, 0 for a
broadcast dimension). `strided_copy_call` turns such a map into the kernel's loops: dimensions
of extent 1 dropped, neighbours that walk both tensors as one merged, the innermost dimension
folded into the copied run when it is contiguous in both, the longest remaining dimension made
the innermost loop, everything in bytes.
"""

from __future__ import annotations

from ..ir import DTYPE_BYTES, Operator, Tensor
from .base import Alias, KernelCall, reject

COPY_LOOPS = 6  # MCF_COPY_LOOPS in strided_copy.h


def copy_loops(counts: list[int], steps: list[int], elem: int
               ) -> tuple[list[int], list[int], list[int], int]:
    """(counts, input byte steps, output byte steps, run bytes) of the kernel's loops for an
    element index map whose output is row-major in `counts`."""
    out_steps = row_major_steps(counts)
    dims = [(c, s * elem, o * elem) for c, s, o in zip(counts, steps, out_steps, strict=True) if c != 1]
    merged: list[tuple[int, int, int]] = []
    for c, s, o in dims:
        if merged and merged[-1][1] == s * c and merged[-1][2] == o * c:  # the outer one continues this one
            merged[-1] = (merged[-1][0] * c, s, o)
        else:
            merged.append((c, s, o))
    run = elem
    if merged and merged[-1][1] == run and merged[-1][2] == run:  # contiguous in both: one run
        run *= merged.pop()[0]
    if len(merged) > 1:
        # every output byte is written once, so the loops may go in any order: the longest one
        # innermost (fewest calls of the inner copy), preferring contiguous writes, then reads
        inner = max(range(len(merged)), key=lambda k: (merged[k][0], merged[k][2] == run, merged[k][1] == run, k))
        merged.append(merged.pop(inner))
    return [c for c, _, _ in merged], [s for _, s, _ in merged], [o for _, _, o in merged], run


def strided_copy_call(op: Operator, inp: Tensor, counts: list[int], steps: list[int], start: int,
                      comment: str = "") -> KernelCall:
    elem = DTYPE_BYTES[inp.dtype]
    loop_counts, in_steps, out_steps, run = copy_loops(counts, steps, elem)
    if len(loop_counts) > COPY_LOOPS:
        raise reject(op, f"the copy needs {len(loop_counts)} nested loops; at most {COPY_LOOPS} are supported")
    if any(c == 0 for c in counts):
        loop_counts, in_steps, out_steps = [0], [0], [0]  # an empty output: nothing to copy
    pad = COPY_LOOPS - len(loop_counts)
    return KernelCall(
        op=op,
        kernel="strided_copy",
        function="mcf_strided_copy",
        params_type="mcf_strided_copy_params",
        params={"count": _c_array([1] * pad + loop_counts), "in_step": _c_array([0] * pad + in_steps),
                "out_step": _c_array([0] * pad + out_steps), "start": start * elem, "run": run},
        args=[op.inputs[0], op.outputs[0]],
        comment=comment,
    )


def prefix_view(op: Operator, inp: Tensor, call: KernelCall) -> KernelCall | Alias:
    """The call, or an Alias when it copies the input's first bytes in order (one run from offset
    0: a slice that keeps a leading part): the output then shares the input's bytes, no copy."""
    loops = [int(x) for x in str(call.params["count"]).strip("{}").split(",")]
    if inp.is_const or call.params["start"] != 0 or any(c != 1 for c in loops):
        return call
    return Alias(op, source=op.inputs[0], target=op.outputs[0])


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
