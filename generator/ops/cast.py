"""CAST between the integer types (int8, int16, int32), as TFLite Micro converts: value by
value as C++ static_cast does (a narrower type keeps the low bits). TFLite Micro casts from int8,
int16, int32 (not uint8) to int8, int16, int32; the same pairs are accepted here."""

from __future__ import annotations

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject, unary_tensors
from .float_arith import lower_cast_to_f32
from .signal_int32 import lower_cast_u32

FROM = {"int8": -1, "int16": -2, "int32": -4}  # the element codes of cast.h
TO = {"int8": -1, "int16": -2, "int32": -4}


@lowering("CAST")
def lower_cast(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    if {inp.dtype, out.dtype} == {"uint32", "int32"}:  # the audio preprocessor's (signal_int32.py)
        return lower_cast_u32(graph, op, inp, out)
    if out.dtype == "float32":  # int -> float32, a model's float tail (float_arith.py)
        return lower_cast_to_f32(op, inp, out)
    if inp.dtype not in FROM or out.dtype not in TO:
        raise reject(op, f"cast from {inp.dtype} to {out.dtype}: TFLite Micro's CAST between integer types goes "
                         f"from {', '.join(FROM)} to {', '.join(TO)}")
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements, output {out.size}")
    return KernelCall(
        op=op,
        kernel="cast",
        function="mcf_cast",
        params_type="mcf_cast_params",
        params={"count": inp.size, "from": FROM[inp.dtype], "to": TO[out.dtype]},
        args=[inp.index, out.index],
        comment=f", {inp.dtype} to {out.dtype}",
    )
