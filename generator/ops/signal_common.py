"""Shared checks for TFLite Micro's signal library operators (the `CUSTOM:Signal*` ops).

Their parameters travel as a flexbuffer map in the operator's custom options (read here with the
`flatbuffers` package's flexbuffers module); tensors are 1-D int16, uint32 or uint64 vectors. Every
check that the C kernels rely on (index ranges, table sizes, shift counts) is made here, so the
kernels index without bounds checks.
"""

from __future__ import annotations

from typing import Any

from flatbuffers import flexbuffers

from ..ir import Graph, Operator, Tensor
from .base import reject


def custom_options(op: Operator) -> dict[str, Any]:
    """The operator's flexbuffer options as a dict (empty when it has none)."""
    raw = op.options.get("custom_options")
    if raw is None:
        return {}
    try:
        value = flexbuffers.Loads(raw)
    except Exception as exc:  # the flexbuffer reader raises anything on corrupt bytes
        raise reject(op, f"its custom options are not a readable flexbuffer ({type(exc).__name__})") from exc
    if not isinstance(value, dict):
        raise reject(op, "its custom options are not a flexbuffer map")
    return value


def int_option(op: Operator, opts: dict[str, Any], key: str, lo: int, hi: int) -> int:
    """An integer option within [lo, hi] (TFLite Micro reads each one as int32)."""
    value = opts.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise reject(op, f"option '{key}' is missing or not an integer")
    if not lo <= value <= hi:
        raise reject(op, f"option '{key}' = {value} is out of the supported range [{lo}, {hi}]")
    return value


def arity(op: Operator, n_in: int, n_out: int) -> None:
    if len(op.inputs) != n_in or len(op.outputs) != n_out or any(i < 0 for i in op.inputs):
        raise reject(op, f"expected {n_in} inputs and {n_out} outputs, got {len(op.inputs)} and {len(op.outputs)}")


def typed(op: Operator, t: Tensor | None, dtype: str, rank: int | None = 1, const: bool = False) -> Tensor:
    """The tensor, checked for type, rank (None: any rank >= 1) and constness."""
    if t is None:
        raise reject(op, "a required tensor is missing")
    if t.dtype != dtype:
        raise reject(op, f"tensor '{t.name}' is {t.dtype}; TFLite Micro's kernel takes {dtype} here")
    if rank is not None and len(t.shape) != rank:
        raise reject(op, f"tensor '{t.name}' has shape {list(t.shape)}; a {rank}-D tensor is expected")
    if rank is None and len(t.shape) < 1:
        raise reject(op, f"tensor '{t.name}' must have at least one dimension")
    if const and t.data is None:
        raise reject(op, f"tensor '{t.name}' must be constant")
    return t


def io(graph: Graph, op: Operator) -> tuple[list[Tensor | None], list[Tensor]]:
    return graph.op_inputs(op), graph.op_outputs(op)
