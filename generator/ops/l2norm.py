"""L2_NORMALIZATION (int8): every innermost row divided by its Euclidean length.

TFLite Micro's int8 kernel sums the squared offset values of a row, takes a fixed-point inverse
square root of the sum (data dependent, so computed by the C kernel for each row) and requantizes
each value by it to the scale 1/128 with zero point 0. Its result is that raw int8 whatever the
output tensor's quantization says, so mcuforge refuses outputs quantized otherwise; up to 4
dimensions, no fused activation.
"""

from __future__ import annotations

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject, unary_tensors
from .strided import require_types


@lowering("L2_NORMALIZATION")
def lower_l2norm(graph: Graph, op: Operator) -> KernelCall:
    inp, out = unary_tensors(graph, op)
    require_types(op, ("int8",), inp, out)
    act = op.options.get("fused_activation_function", "NONE")
    if act != "NONE":
        raise reject(op, f"fused activation {act}; TFLite Micro's L2_NORMALIZATION takes none")
    if not 1 <= len(inp.shape) <= 4:
        raise reject(op, f"{len(inp.shape)} dimensions; TFLite Micro's L2_NORMALIZATION takes 1 to 4")
    if list(out.shape) != list(inp.shape):
        raise reject(op, f"the output shape {list(out.shape)} differs from the input's {list(inp.shape)}")
    if out.zero_point != 0 or abs(out.scale * 128.0 - 1.0) > 1e-6:
        raise reject(op, f"output quantization (scale {out.scale:g}, zero point {out.zero_point}); "
                         "TFLite Micro's int8 result is in scale 1/128 with zero point 0")
    depth = int(inp.shape[-1])
    return KernelCall(
        op=op,
        kernel="l2norm_s8",
        function="mcf_l2norm_s8",
        params_type="mcf_l2norm_params",
        params={"rows": inp.size // depth if depth else 0, "depth": depth, "input_offset": -inp.zero_point},
        args=[inp.index, out.index],
        comment=f", {depth} values per row",
    )
