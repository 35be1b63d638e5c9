"""LOGISTIC and TANH with int16 activations (16x8), reached from nonlinear.py.

TFLite Micro's int16 kernels rescale the input to 1/4096/3 per step (a 16-bit multiplier and a
right shift, or 3 << shift for power-of-two scales), then interpolate linearly in a 256-entry
table of sigmoid(i/24) in Q0.16 (tanh uses tanh(x) = 2 sigmoid(2x) - 1): 9 bits of fraction for
LOGISTIC, 8 for TANH.

That table is data, not a formula (its entries are not all round(65536 sigmoid(i/24))), so it
is measured rather than copied: the interpreter runs one int16 TANH whose input rescaling is
exactly x -> 2x, on inputs that land on the table's entries, where its output is entry - 32768
(see `sigmoid_table`). The result is cached for the session.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from ..errors import ModelError
from ..ir import Graph, Operator
from ..overlap import elementwise_min_shift
from .base import ConstArray, ConstRef, KernelCall, reject
from .fully_connected_s16 import require_int16

TABLE_SIZE = 256
INPUT_INTEGER_BITS = 3  # TFLite's kInputIntegerBits for int16 LOGISTIC and TANH


def _checked_log2(x: float) -> tuple[bool, int]:
    """(is a power of two within 1e-3 in log2, the rounded log2), in float32 as TFLite's CheckedLog2."""
    f32 = np.float32
    log2 = f32(f32(math.log(float(f32(x)))) * f32(f32(1.0) / f32(math.log(2.0))))
    rounded = math.floor(float(log2) + 0.5) if log2 >= 0 else -math.floor(-float(log2) + 0.5)
    return abs(float(f32(log2 - f32(rounded)))) < 1e-3, int(rounded)


def input_rescaling(opcode: str, input_scale: float) -> tuple[int, int]:
    """(multiplier, right shift) the kernel applies to each input: (x * m + round) >> shift."""
    pot, log2 = _checked_log2(input_scale)
    shift = (15 - INPUT_INTEGER_BITS) + log2
    pot = pot and (shift == 0 or (opcode == "TANH" and shift == 1))
    if pot:
        return 3 << shift, 0  # the kernel's power-of-two case
    multiplier = float(np.float32(input_scale)) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def _probe_model(n: int, input_scale: float) -> bytes:
    """A one-operator int16 TANH model, input [n] at `input_scale`, output at 2^-15."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT()
    model.version = 3
    model.buffers = [s.BufferT()]
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.TANH
    code.version = 1
    model.operatorCodes = [code]
    sg = s.SubGraphT()
    sg.tensors = []
    for name, scale in ((b"x", input_scale), (b"y", 2.0 ** -15)):
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, np.array([n], np.int32), s.TensorType.INT16, 0
        t.quantization = s.QuantizationParametersT()
        t.quantization.scale = np.array([scale], np.float32)
        t.quantization.zeroPoint = np.array([0], np.int64)
        sg.tensors.append(t)
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, np.array([0], np.int32), np.array([1], np.int32)
    sg.operators, sg.inputs, sg.outputs = [op], np.array([0], np.int32), np.array([1], np.int32)
    model.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@cache
def sigmoid_table() -> np.ndarray:
    """TFLite Micro's int16 sigmoid table, uint16[256], read off its TANH.

    With input scale s, float32(s) * 12288 >= 2 just above 2, the rescaling is (x * 16384 + 4096)
    >> 13 = 2x. An input x = 128k then gives |2x| = 256k: entry k exactly (no interpolation), and
    TANH's output is entry[k] - 32768. Entry 255 is only the upper end of the last step: it comes
    from x = 128 * 254 + 127, whose output is floor((256 e254 + 254 (e255 - e254) + 128) / 256) - 32768.
    """
    from ..references import Reference

    scale = np.float32(1.0 / 6144.0)
    while float(scale) * 12288.0 < 2.0:
        scale = np.nextafter(scale, np.float32(1.0))
    if input_rescaling("TANH", float(scale)) != (16384, 13):
        raise ModelError("the int16 sigmoid table probe does not rescale by 2 (internal error)")
    xs = np.array([128 * k for k in range(TABLE_SIZE - 1)] + [128 * 254 + 127], dtype=np.int16)
    out = Reference(_probe_model(xs.size, float(scale))).run([xs], 1)[0].astype(np.int64).reshape(-1)
    table = np.zeros(TABLE_SIZE, dtype=np.int64)
    table[:TABLE_SIZE - 1] = out[:TABLE_SIZE - 1] + 32768
    last = int(out[-1]) + 32768
    e254 = int(table[254])
    steps = [d for d in range(0, 1 << 16) if (256 * e254 + 254 * d + 128) // 256 == last]
    if not steps or np.any(np.diff(table[:255]) < 0):
        raise ModelError("the int16 sigmoid table probe gave an unexpected result (internal error)")
    table[255] = e254 + steps[0]
    return table.astype(np.uint16)


def lower_sigmoid_s16(graph: Graph, op: Operator) -> KernelCall:
    ins, outs = graph.op_inputs(op), graph.op_outputs(op)
    if len(ins) != 1 or ins[0] is None or len(outs) != 1:
        raise reject(op, f"expected 1 input and 1 output, got {len(ins)} and {len(outs)}")
    inp, out = ins[0], outs[0]
    require_int16(op, inp, out)
    if inp.zero_point != 0 or out.zero_point != 0:
        raise reject(op, "int16 LOGISTIC and TANH need zero points 0 (TFLite Micro checks this)")
    pot, log2 = _checked_log2(out.scale)
    if not pot or log2 != -15:
        raise reject(op, f"the int16 output must have scale 2^-15, got {out.scale:g}")
    if inp.size != out.size:
        raise reject(op, f"input has {inp.size} elements but output has {out.size}")
    multiplier, shift = input_rescaling(op.opcode, inp.scale)
    if not 0 < multiplier <= 32767:
        raise reject(op, f"input scale {inp.scale:g} is outside TFLite Micro's int16 {op.opcode} range")
    is_tanh = op.opcode == "TANH"
    return KernelCall(
        op=op, kernel="nonlinear_s16", function="mcf_tanh_s16" if is_tanh else "mcf_logistic_s16",
        params_type="mcf_sigmoid_s16_params",
        params={"size": out.size, "multiplier": multiplier, "shift": shift, "table": ConstRef("table")},
        args=[op.inputs[0], op.outputs[0]], consts=[ConstArray("table", "uint16_t", sigmoid_table())],
        comment=", int16, interpolated 256-entry sigmoid table",
        overlap={op.inputs[0]: elementwise_min_shift(out.size, 2, 2)},
    )
