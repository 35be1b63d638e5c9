"""16x8 operators (int16 activations, int8 weights, int64 bias) against TFLite Micro, bit for bit,
on every kernel path (fast, portable, DSP emulated)."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8, single_op


@pytest.mark.parametrize("batches,depth,units,per_channel,act,bias", [
    (1, 16, 8, True, Activation.NONE, "int64"),
    (3, 33, 7, True, Activation.RELU6, "int64"),
    (2, 300, 5, False, Activation.RELU, "int64"),
    (1, 640, 24, True, Activation.NONE, "int64"),
    (2, 20, 6, False, Activation.NONE, "int32"),
    (1, 9, 3, True, Activation.NONE, None),
])
def _fully_connected_16x8(batches, depth, units, per_channel, act, bias) -> bytes:
    rng = np.random.default_rng(depth * units + batches)
    w_scale = list(rng.uniform(0.001, 0.02, units)) if per_channel else 0.01
    w = T((units, depth), "int8", w_scale, [0] * units if per_channel else 0, data=rng_int8(rng, (units, depth)))
    # outputs spread over the int16 range: the sum's standard deviation is about
    # sqrt(depth) * 32768 * 128 / 3 steps of in_scale * w_scale
    in_scale = 0.0005
    out_scale = in_scale * float(np.mean(w_scale)) * np.sqrt(depth) * 175
    tensors = [T((batches, depth), "int16", in_scale, 0), w]
    if bias is not None:
        big = int(np.sqrt(depth) * 2e6)
        tensors.append(T((units,), bias, [in_scale * s for s in w_scale] if per_channel else in_scale * 0.01, 0,
                         data=rng.integers(-big, big, units).astype(np.int64 if bias == "int64" else np.int32)))
    tensors.append(T((batches, units), "int16", float(out_scale), 0))
    n = len(tensors)
    inputs = list(range(n - 1)) if bias is not None else [0, 1, -1]
    model = build(tensors, [Op("FULLY_CONNECTED", inputs, [n - 1],
                               options("FullyConnectedOptions", fusedActivationFunction=act))], [0], [n - 1])
    return model


@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
@pytest.mark.parametrize("shape1,shape2,scales,act", [
    ((1, 8, 8, 5), (1, 8, 8, 5), (0.0004, 0.0007, 0.001), Activation.NONE),
    ((2, 3, 7), (7,), (0.001, 0.0003, 0.0009), Activation.RELU),
    ((1, 4, 1, 6), (1, 1, 5, 1), (0.0002, 0.0002, 0.0005), Activation.RELU6),
    ((3, 5), (1,), (0.002, 0.0001, 0.0015), Activation.NONE),
])
def _add_sub_16x8(opcode, shape1, shape2, scales, act) -> bytes:
    out_shape = tuple(int(d) for d in np.broadcast_shapes(shape1, shape2))
    kind = "AddOptions" if opcode == "ADD" else "SubOptions"
    model = single_op(opcode, [T(shape1, "int16", scales[0], 0), T(shape2, "int16", scales[1], 0)],
                      [T(out_shape, "int16", scales[2], 0)], options(kind, fusedActivationFunction=act))
    return model


@pytest.mark.parametrize("shape1,shape2,scales,act", [
    ((1, 6, 6, 4), (1, 6, 6, 4), (0.0004, 0.0007, 6000.0), Activation.NONE),
    ((2, 3, 7), (7,), (0.001, 0.0003, 9000.0), Activation.RELU),
    ((4, 1, 6), (1, 5, 1), (0.0002, 0.0002, 20000.0), Activation.RELU6),
    ((3, 5), (1,), (0.02, 0.01, 0.5), Activation.NONE),  # multiplier above one: a left shift
])
def _mul_16x8(shape1, shape2, scales, act) -> bytes:
    """scales: input1, input2, and the output scale over their product (random products of two
    int16 are around 2^28, so about 8192 keeps the outputs inside int16)."""
    out_shape = tuple(int(d) for d in np.broadcast_shapes(shape1, shape2))
    model = single_op("MUL", [T(shape1, "int16", scales[0], 0), T(shape2, "int16", scales[1], 0)],
                      [T(out_shape, "int16", scales[0] * scales[1] * scales[2], 0)],
                      options("MulOptions", fusedActivationFunction=act))
    return model


@pytest.mark.parametrize("shape,in_scale,beta", [
    ((1, 10), 0.0005, 1.0),
    ((2, 3, 33), 0.0002, 1.0),
    ((4, 7), 0.001, 0.5),
    ((1, 1000), 0.00003, 2.0),
    ((5, 1), 0.0005, 1.0),
])
def _softmax_16x8(shape, in_scale, beta) -> bytes:
    model = single_op("SOFTMAX", [T(shape, "int16", in_scale, 0)], [T(shape, "int16", 1.0 / 32768, 0)],
                      options("SoftmaxOptions", beta=beta))
    return model


@pytest.mark.parametrize("opcode,in_scale,out_scale", [
    ("RELU", 0.001, 0.001),
    ("RELU", 0.001, 0.0007),
    ("RELU", 0.0003, 0.0011),
    ("RELU6", 0.0003, 0.0003),
    ("RELU6", 0.00005, 0.00005),  # 6 lies beyond the int16 range: no upper clamp
])
def _relu_16x8(opcode, in_scale, out_scale) -> bytes:
    model = single_op(opcode, [T((2, 5, 7), "int16", in_scale, 0)], [T((2, 5, 7), "int16", out_scale, 0)])
    return model


@pytest.mark.parametrize("alpha,in_q,out_q", [
    (0.2, (0.001, 0), (0.001, 0)),
    (0.1, (0.0005, 3), (0.0009, -7)),
    (-0.5, (0.0004, 0), (0.0003, 0)),
    (1.7, (0.0002, 0), (0.0005, 0)),
])
def _leaky_relu_16x8(alpha, in_q, out_q) -> bytes:
    model = single_op("LEAKY_RELU", [T((3, 40), "int16", *in_q)], [T((3, 40), "int16", *out_q)],
                      options("LeakyReluOptions", alpha=alpha))
    return model


@pytest.mark.parametrize("opcode", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("shape,filt,stride,padding,act", [
    ((1, 8, 8, 3), (2, 2), (2, 2), Padding.VALID, Activation.NONE),
    ((2, 7, 9, 5), (3, 3), (2, 1), Padding.SAME, Activation.RELU),
    ((1, 6, 6, 4), (6, 6), (1, 1), Padding.VALID, Activation.RELU6),
])
def _pool_16x8(opcode, shape, filt, stride, padding, act) -> bytes:
    n, h, w, c = shape
    oh = (h - filt[0]) // stride[0] + 1 if padding == Padding.VALID else -(-h // stride[0])
    ow = (w - filt[1]) // stride[1] + 1 if padding == Padding.VALID else -(-w // stride[1])
    model = single_op(opcode, [T(shape, "int16", 0.0004, 0)], [T((n, oh, ow, c), "int16", 0.0004, 0)],
                      options("Pool2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                              filterHeight=filt[0], filterWidth=filt[1], fusedActivationFunction=act))
    return model


@pytest.mark.parametrize("in_t,out_t", [
    (T((2, 50), "float32"), T((2, 50), "int16", 0.0003, 0)),
    (T((2, 50), "float32"), T((2, 50), "int16", 0.0007, 123)),
    (T((3, 40), "int8", 0.02, -5), T((3, 40), "int16", 0.0004, 0)),
    (T((3, 40), "int8", 0.02, 7), T((3, 40), "int16", 0.00001, -3)),  # saturates
    (T((3, 40), "int16", 0.0004, 0), T((3, 40), "int8", 0.05, 4)),
    (T((3, 40), "int16", 0.0004, 0), T((3, 40), "int16", 0.0009, 0)),
    (T((3, 40), "int16", 0.0009, 2), T((3, 40), "int16", 0.0002, -1)),  # saturates, left shift
    (T((1, 2, 40, 2), "int32", 1.49e-07, 0), T((1, 2, 40, 2), "int16", 0.00092, 0)),  # as in SEANet
    (T((3, 40), "int16", 0.0004, 0), T((3, 40), "int32", 0.00001, 3)),
])
def _quantize_16x8(in_t, out_t) -> bytes:
    return single_op("QUANTIZE", [in_t], [out_t])


@pytest.mark.parametrize("scale,zero_point", [(0.0003, 0), (1.7e-5, -12), (0.25, 5)])
def _dequantize_int16(scale, zero_point) -> bytes:
    return single_op("DEQUANTIZE", [T((4, 33), "int16", scale, zero_point)], [T((4, 33), "float32")])


@pytest.mark.parametrize("shape,pads,opcode,value", [
    ((1, 5, 6, 3), [[0, 0], [1, 2], [2, 1], [0, 0]], "PAD", None),
    ((2, 7), [[1, 0], [3, 4]], "PAD", None),
    ((1, 4, 4, 2), [[0, 0], [1, 1], [1, 1], [0, 1]], "PADV2", -1234),
    ((3, 2, 2, 2, 2), [[0, 1], [1, 0], [0, 0], [2, 0], [0, 1]], "PAD", None),
])
def _pad_16x8(shape, pads, opcode, value) -> bytes:
    out_shape = tuple(d + a + b for d, (a, b) in zip(shape, pads, strict=True))
    ins = [T(shape, "int16", 0.0005, 0), T((len(shape), 2), "int32", data=np.array(pads, np.int32))]
    if value is not None:
        ins.append(T((1,), "int16", 0.0005, 0, data=np.array([value], np.int16)))
    return single_op(opcode, ins, [T(out_shape, "int16", 0.0005, 0)])


@pytest.mark.parametrize("shapes,axis", [
    ([(1, 4, 4, 3), (1, 4, 4, 5)], 3),
    ([(2, 3), (1, 3), (4, 3)], 0),
    ([(2, 1, 5), (2, 7, 5)], -2),
])
def _concatenation_16x8(shapes, axis) -> bytes:
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    # TFLite Micro copies int16 values whatever the scales
    ins = [T(s, "int16", 0.0005 * (k + 1), 0) for k, s in enumerate(shapes)]
    return single_op("CONCATENATION", ins, [T(tuple(out_shape), "int16", 0.0005, 0)],
                              options("ConcatenationOptions", axis=axis))


@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
@pytest.mark.parametrize("shape,axes,keep,scales", [
    ((1, 6, 6, 8), [1, 2], True, (0.0005, 0.0004)),
    ((2, 5, 7), [2], False, (0.0003, 0.0009)),
    ((3, 4, 5, 2), [0, 2], False, (0.0002, 0.0002)),
    ((2, 9), [-1], True, (0.001, 0.003)),
])
def _mean_sum_16x8(opcode, shape, axes, keep, scales) -> bytes:
    reduced = {a % len(shape) for a in axes}
    out_shape = tuple(1 if i in reduced else d for i, d in enumerate(shape) if keep or i not in reduced)
    # SUM grows with the count: a coarser output scale keeps it inside int16
    out_scale = scales[1] * (1 if opcode == "MEAN" else int(np.prod([shape[a] for a in reduced])) ** 0.5)
    axis = T((len(axes),), "int32", data=np.array(axes, np.int32))
    model = single_op(opcode, [T(shape, "int16", scales[0], 0), axis], [T(out_shape, "int16", out_scale, 0)],
                      options("ReducerOptions", keepDims=keep))
    return model


def _all_int16_values_bit_exact(model: bytes) -> None:
    """Every int16 input value once in every graph input, on every kernel path."""
    from kernel_check import KERNEL_PATHS

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model
    from mcuforge.generator.validate import validate_compiled

    cm = compile_graph(parse_model(model, name="test.tflite"))
    batch = [[np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)] * len(cm.graph.inputs)]
    for path, flags in KERNEL_PATHS.items():
        result = validate_compiled(cm, model, batch, extra_flags=flags)
        assert result.bit_exact == 1, (path, result.to_json())


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("in_scale", [
    2.0 ** -12,  # power of two: the kernel's 3 << shift case
    2.0 ** -11,  # power of two for TANH only (shift 1); LOGISTIC takes the general path
    0.0003,
    1.0 / 32768,
    0.002,
])
def _logistic_tanh_16x8(opcode, in_scale) -> bytes:
    return single_op(opcode, [T((256, 256), "int16", in_scale, 0)], [T((256, 256), "int16", 2.0 ** -15, 0)])


def _merged(builder) -> bytes:
    """Every parameter combination of `builder`'s parametrize marks, as one branch each of a parallel
    model (one compile per kernel path for all of them)."""
    combos: list[dict] = [{}]
    for mark in builder.pytestmark:
        names = [n.strip() for n in mark.args[0].split(",")]
        combos = [{**c, **dict(zip(names, v if len(names) > 1 else (v,), strict=True))}
                  for c in combos for v in mark.args[1]]
    return merge_parallel({f"{builder.__name__[1:]}_{k}": builder(**c) for k, c in enumerate(combos)})


@pytest.mark.parametrize("builder", [_fully_connected_16x8, _add_sub_16x8, _mul_16x8, _softmax_16x8, _relu_16x8,
                                     _leaky_relu_16x8, _pool_16x8, _quantize_16x8, _dequantize_int16, _pad_16x8,
                                     _concatenation_16x8, _mean_sum_16x8], ids=lambda b: b.__name__[1:])
def test_bit_exact(builder):
    check_bit_exact(_merged(builder))


def test_logistic_tanh_16x8_every_input():
    _all_int16_values_bit_exact(_merged(_logistic_tanh_16x8))


def test_sigmoid_table_is_measured_monotonic():
    from mcuforge.generator.ops.sigmoid16 import sigmoid_table

    t = sigmoid_table().astype(np.int64)
    assert t[0] == 32768 and t[-1] == 65535 and np.all(np.diff(t) >= 0)
    # close to sigmoid(i / 24) in Q0.16, but not its rounding everywhere
    exact = 65536 / (1 + np.exp(-np.arange(256) / 24))
    assert np.max(np.abs(t - exact)) < 1.5


def device_models() -> dict[str, bytes]:
    """16x8 branches of the on-device parallel model (tests/test_kernels_on_device.py): one each
    for the int16 kernels, on shapes that reach their fast and remainder loops."""
    rng = np.random.default_rng(16)
    units, depth = 7, 45
    w_scale = list(rng.uniform(0.002, 0.01, units))
    fc = build([T((2, depth), "int16", 0.0005, 0),
                T((units, depth), "int8", w_scale, [0] * units, data=rng_int8(rng, (units, depth))),
                T((units,), "int64", [0.0005 * s for s in w_scale], [0] * units,
                  data=rng.integers(-50000, 50000, units).astype(np.int64)),
                T((2, units), "int16", 0.0005 * float(np.mean(w_scale)) * np.sqrt(depth) * 175, 0)],
               [Op("FULLY_CONNECTED", [0, 1, 2], [3], options("FullyConnectedOptions"))], [0], [3])
    shape = (1, 6, 5, 4)
    pool = options("Pool2DOptions", padding=Padding.SAME, strideH=2, strideW=2, filterHeight=3, filterWidth=3)
    return {
        "s16_fully_connected": fc,
        "s16_add_bcast": single_op("ADD", [T(shape, "int16", 0.0004, 0), T((4,), "int16", 0.0007, 0)],
                                   [T(shape, "int16", 0.001, 0)], options("AddOptions")),
        "s16_sub": single_op("SUB", [T(shape, "int16", 0.0004, 0), T(shape, "int16", 0.0002, 0)],
                             [T(shape, "int16", 0.0006, 0)], options("SubOptions")),
        "s16_mul": single_op("MUL", [T(shape, "int16", 0.0004, 0), T(shape, "int16", 0.0007, 0)],
                             [T(shape, "int16", 0.0004 * 0.0007 * 8000, 0)], options("MulOptions")),
        "s16_softmax": single_op("SOFTMAX", [T((3, 11), "int16", 0.0005, 0)], [T((3, 11), "int16", 1 / 32768, 0)],
                                 options("SoftmaxOptions", beta=1.0)),
        "s16_relu": single_op("RELU", [T((5, 9), "int16", 0.001, 0)], [T((5, 9), "int16", 0.0007, 0)]),
        "s16_leaky_relu": single_op("LEAKY_RELU", [T((5, 9), "int16", 0.001, 0)], [T((5, 9), "int16", 0.0008, 0)],
                                    options("LeakyReluOptions", alpha=0.2)),
        "s16_logistic": single_op("LOGISTIC", [T((4, 16), "int16", 0.0003, 0)], [T((4, 16), "int16", 2.0 ** -15, 0)]),
        "s16_tanh": single_op("TANH", [T((4, 16), "int16", 2.0 ** -12, 0)], [T((4, 16), "int16", 2.0 ** -15, 0)]),
        "s16_avgpool": single_op("AVERAGE_POOL_2D", [T(shape, "int16", 0.0004, 0)],
                                 [T((1, 3, 3, 4), "int16", 0.0004, 0)], pool),
        "s16_maxpool": single_op("MAX_POOL_2D", [T(shape, "int16", 0.0004, 0)],
                                 [T((1, 3, 3, 4), "int16", 0.0004, 0)], pool),
        "s16_mean": single_op("MEAN", [T(shape, "int16", 0.0004, 0), T((2,), "int32", data=np.array([1, 2], np.int32))],
                              [T((1, 4), "int16", 0.0003, 0)], options("ReducerOptions", keepDims=False)),
        "s16_requantize_s8": single_op("QUANTIZE", [T((3, 13), "int16", 0.0004, 0)], [T((3, 13), "int8", 0.05, 3)]),
        "s8_requantize_s16": single_op("QUANTIZE", [T((3, 13), "int8", 0.05, 3)], [T((3, 13), "int16", 0.0004, 0)]),
    }


def test_device_models_bit_exact_on_host():
    assert check_bit_exact(merge_parallel(device_models()), count=2).bit_exact == 2
