import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, T, options, rng_int8, single_op


@pytest.mark.parametrize("batches,depth,units,per_channel,act,in_zp", [
    (1, 16, 8, False, Activation.NONE, 0),
    (1, 640, 128, False, Activation.RELU, -3),
    (3, 33, 7, True, Activation.RELU6, 17),
    (2, 5, 1, True, Activation.NONE, -128),
])
def test_fully_connected(batches, depth, units, per_channel, act, in_zp):
    rng = np.random.default_rng(depth * units)
    w_scale = list(rng.uniform(0.001, 0.02, units)) if per_channel else 0.01
    w = T((units, depth), "int8", w_scale, [0] * units if per_channel else 0, data=rng_int8(rng, (units, depth)))
    bias = T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
             data=rng.integers(-5000, 5000, units).astype(np.int32))
    model = single_op(
        "FULLY_CONNECTED",
        [T((batches, depth), "int8", 0.05, in_zp), w, bias],
        [T((batches, units), "int8", 0.2, 5)],
        options("FullyConnectedOptions", fusedActivationFunction=act),
    )
    check_bit_exact(model)


def test_fully_connected_without_bias():
    rng = np.random.default_rng(1)
    model = single_op(
        "FULLY_CONNECTED",
        [T((1, 20), "int8", 0.1, 2), T((4, 20), "int8", 0.01, 0, data=rng_int8(rng, (4, 20)))],
        [T((1, 4), "int8", 0.3, -1)],
        options("FullyConnectedOptions"),
    )
    # optional bias omitted: -1 in the operator inputs
    from tflite_builder import Op, build

    tensors = [T((1, 20), "int8", 0.1, 2), T((4, 20), "int8", 0.01, 0, data=rng_int8(rng, (4, 20))),
               T((1, 4), "int8", 0.3, -1)]
    model = build(tensors, [Op("FULLY_CONNECTED", [0, 1, -1], [2], options("FullyConnectedOptions"))], [0], [2])
    check_bit_exact(model)


def _fc_tensors(batches, depth, units, per_channel, act, in_zp, out_scale=0.2, seed=0):
    rng = np.random.default_rng(seed + depth * units)
    w_scale = list(rng.uniform(0.001, 0.02, units)) if per_channel else 0.01
    w = T((units, depth), "int8", w_scale, [0] * units if per_channel else 0, data=rng_int8(rng, (units, depth)))
    bias = T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
             data=rng.integers(-5000, 5000, units).astype(np.int32))
    return ([T((batches, depth), "int8", 0.05, in_zp), w, bias, T((batches, units), "int8", out_scale, -7)],
            options("FullyConnectedOptions", fusedActivationFunction=act))


def _fc_model(*args, **kwargs):
    tensors, opts = _fc_tensors(*args, **kwargs)
    return single_op("FULLY_CONNECTED", tensors[:3], tensors[3:], opts)


def test_short_output_stage_over_small_layers():
    """The fast path's output constants (out_q): units in whole blocks and 1..3 left over, depths with
    and without a partial group, one and several rows, full range and clamped, per tensor and per
    channel; side by side in one model, bit-exact on every path."""
    from tflite_builder import Op, build

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model

    cases = [(1, 18, 10, False, Activation.NONE, -3), (1, 32, 4, False, Activation.RELU, 4),
             (1, 1, 16, False, Activation.RELU, -128), (1, 300, 1, False, Activation.NONE, 0),
             (3, 9, 3, True, Activation.RELU6, 11), (2, 7, 6, True, Activation.NONE, 127)]
    tensors, ops, ins, outs = [], [], [], []
    for case in cases:
        ts, opts = _fc_tensors(*case)
        k = len(tensors)
        tensors += ts
        ops.append(Op("FULLY_CONNECTED", [k, k + 1, k + 2], [k + 3], opts))
        ins.append(k)
        outs.append(k + 3)
    model = build(tensors, ops, ins, outs)
    calls = compile_graph(parse_model(model)).calls
    assert len(calls) == len(cases) and all("out_q" in c.params for c in calls)
    check_bit_exact(model)


def test_output_constants_only_where_nothing_overflows():
    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model
    from mcuforge.generator.ops.conv import short_output_constants

    w = np.full((2, 4), 127, dtype=np.int8)
    q = short_output_constants(w, np.array([10, -10]), np.array([2**30]), np.array([-3]), 5)
    assert q is not None and list(q) == [2**30, 4 + 5 * 8, 3]  # one triple per tensor
    assert short_output_constants(w, np.zeros(2), np.array([2**30]), np.array([0]), 0) is None  # not a right shift
    assert short_output_constants(w, np.array([2**30, 0]), np.array([2**30]), np.array([-3]), 0) is None  # 2 * acc
    assert short_output_constants(w, np.zeros(2), np.array([2**30]), np.array([-31]), 1) is None  # offset * 2^31
    # an output scale below the accumulator's: a left shift, the general output stage, still bit-exact
    model = _fc_model(1, 18, 10, False, Activation.NONE, -3, out_scale=1e-5)
    (call,) = compile_graph(parse_model(model)).calls
    assert "out_q" not in call.params
    check_bit_exact(model)
