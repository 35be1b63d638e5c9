"""ADD, SUB and MUL (int8, with numpy-style broadcasting, fused activations).

The multipliers follow TFLite Micro's Prepare for each op exactly, including the precision of
each step (double for all three). Broadcasting is resolved here: the kernel only walks a few
merged loop dimensions with per-input strides (0 where an input is broadcast), which yields the
same element pairs as TFLite's broadcast loops, so the results are identical.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ir import Graph, Operator, Tensor
from ..overlap import elementwise_min_shift
from ..quant import activation_range, quantize_multiplier
from . import binary_f32, float_requant
from .base import ConstArray, ConstRef, KernelCall, lowering, reject, require_int8
from .elementwise_s16 import INT_RANGE, lower_add_sub_s16, lower_mul_s16
from .float_arith import is_float_binary, lower_binary_f32_tail
from .fully_connected_s16 import require_int16
from .signal_int32 import lower_binary_i32

# Loop dimensions the C kernels can walk (MCF_BCAST_MAX_DIMS in mcf_common.h).
MAX_LOOP_DIMS = 8
ADD_LEFT_SHIFT = 20  # TFLite's headroom shift for int8 ADD/SUB


def broadcast_loops(shape1: tuple[int, ...], shape2: tuple[int, ...]
                    ) -> tuple[tuple[int, ...], list[int], list[int], list[int]]:
    """Output shape and merged loops (extents, input1 strides, input2 strides), outermost first.

    Raises ValueError if the shapes do not broadcast. Dimensions of extent 1 are dropped and
    neighbouring dimensions that broadcast the same way are merged, so equal shapes give a single
    loop with stride 1 on both sides; a scalar operand gives stride 0.
    """
    out_shape = tuple(int(d) for d in np.broadcast_shapes(tuple(shape1), tuple(shape2)))
    rank = len(out_shape)
    s1 = (1,) * (rank - len(shape1)) + tuple(shape1)
    s2 = (1,) * (rank - len(shape2)) + tuple(shape2)

    def strides(shape: tuple[int, ...]) -> list[int]:
        acc, out = 1, [0] * rank
        for d in range(rank - 1, -1, -1):
            out[d] = acc
            acc *= shape[d]
        return out

    st1, st2 = strides(s1), strides(s2)
    loops: list[list[int]] = []  # innermost first while building: [extent, stride1, stride2]
    for d in range(rank - 1, -1, -1):
        n = out_shape[d]
        if n == 1:
            continue
        a = 0 if s1[d] == 1 else st1[d]
        b = 0 if s2[d] == 1 else st2[d]
        if loops and (a == 0) == (loops[-1][1] == 0) and (b == 0) == (loops[-1][2] == 0):
            loops[-1][0] *= n  # same broadcast pattern as the inner loop: contiguous, merge
        else:
            loops.append([n, a, b])
    if not loops:
        loops.append([1, 0, 0])
    loops.reverse()
    return out_shape, [x[0] for x in loops], [x[1] for x in loops], [x[2] for x in loops]


def broadcast_operands(op: Operator, graph: Graph, require: Callable[[Operator, Tensor, Tensor, Tensor], None], *,
                       per_tensor: bool = True, max_rank: int | None = None
                       ) -> tuple[Tensor, Tensor, Tensor, dict, list[ConstArray]]:
    """The checks of every broadcasting binary operator: two inputs and one output, their types
    (`require(op, a, b, out)` refuses what the operator does not take), per-tensor quantization
    (unless not `per_tensor`), input shapes that broadcast (tensors of rank up to `max_rank`) to the
    output's shape, nothing empty, at most MAX_LOOP_DIMS merged loops. Returns the three tensors,
    the loop parameters (ndims, dims, stride1, stride2) and their constant arrays."""
    ins = graph.op_inputs(op)
    outs = graph.op_outputs(op)
    if len(ins) != 2 or ins[0] is None or ins[1] is None or len(outs) != 1:
        raise reject(op, f"expected 2 inputs and 1 output, got {len(ins)} and {len(outs)}")
    a, b, out = ins[0], ins[1], outs[0]
    require(op, a, b, out)
    for t in (a, b, out) if per_tensor else ():
        assert t.quant is not None
        if t.quant.per_channel:
            raise reject(op, f"tensor '{t.name}' is quantized per channel; only per-tensor is supported")
    try:
        shape, dims, st1, st2 = broadcast_loops(a.shape, b.shape)
    except ValueError:
        raise reject(op, f"input shapes {list(a.shape)} and {list(b.shape)} do not broadcast") from None
    if max_rank is not None and max(len(a.shape), len(b.shape), len(out.shape)) > max_rank:
        raise reject(op, f"tensors of rank above {max_rank} are not supported (TFLite Micro neither)")
    rank = max(len(shape), len(out.shape))
    if (1,) * (rank - len(shape)) + shape != (1,) * (rank - len(out.shape)) + tuple(out.shape):
        raise reject(op, f"output shape {list(out.shape)} differs from the broadcast shape {list(shape)}")
    if out.size == 0:
        raise reject(op, "empty tensors are not supported")
    if len(dims) > MAX_LOOP_DIMS:
        raise reject(op, f"broadcast needs {len(dims)} loop dimensions; "
                         f"at most {MAX_LOOP_DIMS} are supported")
    loops = {"ndims": len(dims), "dims": ConstRef("dims"), "stride1": ConstRef("stride1"),
             "stride2": ConstRef("stride2")}
    consts = [ConstArray("dims", "int32_t", np.array(dims, np.int32)),
              ConstArray("stride1", "int32_t", np.array(st1, np.int32)),
              ConstArray("stride2", "int32_t", np.array(st2, np.int32))]
    return a, b, out, loops, consts


def _prepare_binary(op: Operator, graph: Graph, dtype: str = "int8"
                    ) -> tuple[Tensor, Tensor, Tensor, dict, list[ConstArray]]:
    a, b, out, loops, consts = broadcast_operands(op, graph, require_int16 if dtype == "int16" else require_int8)
    act = op.options.get("fused_activation_function", "NONE")
    try:
        act_min, act_max = activation_range(act, out.scale, out.zero_point, *INT_RANGE[dtype])
    except ValueError:
        raise reject(op, f"fused activation {act} is not supported") from None
    return a, b, out, {"act_min": act_min, "act_max": act_max, **loops}, consts


def elementwise_overlap(op: Operator, graph: Graph) -> dict[int, int]:
    """Inputs the output may overwrite in place (see overlap.py): add_s8.c and mul_s8.c compute
    out[i] from the two inputs' elements of output position i, in raster order, so an input that is
    not broadcast (its element i is the one at output position i) may share the output's bytes."""
    out = graph.op_outputs(op)[0]
    return {t: elementwise_min_shift(out.size, 1, 1) for t in op.inputs[:2]
            if graph.tensors[t].size == out.size}


def _smaller_than_one(op: Operator, real: float, what: str) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: TFLite refuses multipliers outside (0, 1)."""
    if not 0.0 < real < 1.0:
        raise reject(op, f"the {what} multiplier {real:.6g} is outside (0, 1); "
                         "TFLite Micro cannot run this quantization either")
    return quantize_multiplier(real)


def add_sub_multipliers(op: Operator, s1: float, s2: float, so: float
                        ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(input1, input2, output) multipliers of TFLite's int8 ADD and SUB, derived in double.

    SUB uses the same double arithmetic as ADD in the reference interpreter (checked bit for bit
    on every input pair: float32 ratios here give different results on some pairs).
    """
    twice = 2.0 * max(s1, s2)
    real1 = s1 / twice
    real2 = s2 / twice
    real_out = twice / ((1 << ADD_LEFT_SHIFT) * so)
    return (_smaller_than_one(op, real1, "input1"), _smaller_than_one(op, real2, "input2"),
            _smaller_than_one(op, real_out, "output"))


@lowering("ADD", "SUB")
def lower_add_sub(graph: Graph, op: Operator) -> KernelCall:
    if op.inputs and op.inputs[0] >= 0 and graph.tensors[op.inputs[0]].dtype == "int32":  # signal_int32.py
        return lower_binary_i32(graph, op)
    if is_float_binary(graph, op):  # a float32 tail (float_arith.py)
        return lower_binary_f32_tail(graph, op)
    if graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 (elementwise_s16.py)
        return lower_add_sub_s16(graph, op, *_prepare_binary(op, graph, "int16"))
    a, b, out, params, consts = _prepare_binary(op, graph)
    if float_requant.wants_float32(op) and binary_f32.takes(op, a, b, out):  # onnxruntime's, binary_f32.py
        return binary_f32.lower_binary_f32(op, a, b, out, params, consts, elementwise_overlap(op, graph))
    (m1, sh1), (m2, sh2), (mo, sho) = add_sub_multipliers(op, a.scale, b.scale, out.scale)
    params = {
        "input1_offset": -a.zero_point,
        "input2_offset": -b.zero_point,
        "left_shift": ADD_LEFT_SHIFT,
        "input1_multiplier": m1,
        "input1_shift": sh1,
        "input2_multiplier": m2,
        "input2_shift": sh2,
        "output_multiplier": mo,
        "output_shift": sho,
        "output_offset": out.zero_point,
        **params,
    }
    # onnxruntime's QLinearAdd (add_s8_f32.h) for inputs of the output's shape: its formula differs
    # where a broadcast input is a scalar within onnxruntime's loop, so broadcasts keep TFLite's.
    f32 = (op.opcode == "ADD" and float_requant.wants_float32(op) and tuple(a.shape) == tuple(out.shape)
           and tuple(b.shape) == tuple(out.shape))
    if f32:
        r1, r2, k = float_requant.add_constants(a.scale, a.zero_point, b.scale, b.zero_point, out.scale,
                                                out.zero_point)
        params.update({"input1_multiplier": r1, "input2_multiplier": r2, "output_multiplier": k})
        # cores without an FPU: the fixed-point route's constants in the fields the float32 copy leaves
        f, m1, m2, kk = float_requant.add_soft_constants(r1, r2, k)
        params.update({"left_shift": f, "input1_shift": m1, "input2_shift": m2, "output_shift": kk})
    call = KernelCall(
        op=op,
        kernel="add_s8",
        function="mcf_add_s8" if op.opcode == "ADD" else "mcf_sub_s8",
        params_type="mcf_add_params",
        params=params,
        args=[op.inputs[0], op.inputs[1], op.outputs[0]],
        consts=consts,
        overlap=elementwise_overlap(op, graph),
    )
    return float_requant.entry_points(op, call) if f32 else call


@lowering("MUL")
def lower_mul(graph: Graph, op: Operator) -> KernelCall:
    if op.inputs and op.inputs[0] >= 0 and graph.tensors[op.inputs[0]].dtype == "int32":  # signal_int32.py
        return lower_binary_i32(graph, op)
    if is_float_binary(graph, op):  # a float32 tail (float_arith.py)
        return lower_binary_f32_tail(graph, op)
    if graph.tensors[op.inputs[0]].dtype == "int16":  # 16x8 (elementwise_s16.py)
        return lower_mul_s16(graph, op, *_prepare_binary(op, graph, "int16"))
    a, b, out, params, consts = _prepare_binary(op, graph)
    if float_requant.wants_float32(op) and binary_f32.takes(op, a, b, out):  # onnxruntime's, binary_f32.py
        return binary_f32.lower_binary_f32(op, a, b, out, params, consts, elementwise_overlap(op, graph))
    real = a.scale * b.scale / out.scale  # double, as TFLite Micro
    mult, shift = quantize_multiplier(real)
    f32 = float_requant.wants_float32(op)
    if f32:  # onnxruntime's QLinearMul (mul_s8_f32.h): the bits of float32 (a_scale * b_scale) / out_scale
        mult, shift = int(float_requant.scale_bits(float_requant.product_scales(a.scale, np.array([b.scale]),
                                                                                 out.scale))[0]), 0
    params = {
        "input1_offset": -a.zero_point,
        "input2_offset": -b.zero_point,
        "output_multiplier": mult,
        "output_shift": shift,
        "output_offset": out.zero_point,
        **params,
    }
    call = KernelCall(
        op=op,
        kernel="mul_s8",
        function="mcf_mul_s8",
        params_type="mcf_mul_params",
        params=params,
        args=[op.inputs[0], op.inputs[1], op.outputs[0]],
        consts=consts,
        overlap=elementwise_overlap(op, graph),
    )
    return float_requant.entry_points(op, call) if f32 else call
