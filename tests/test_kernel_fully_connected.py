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


def test_short_path_over_tiny_layers():
    """The short path's entry points and layout over the small layers of real models (inputs 1-48,
    outputs 1-16: the whole blocks, the 1..3 units left, an input row with and without a partial
    group), zero points at the int8 boundaries, every fused activation, with and without a bias,
    per tensor and per channel; side by side in one model, bit-exact on the fast, portable,
    DSP-emulated and RV32-emulated paths."""
    from kernel_check import RV32_PATH
    from tflite_builder import Op, build

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model

    acts = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
    # batches, depth, units, per_channel, activation, input zero point, output zero point, bias
    cases = [(1, 8, 16, False, acts[1], -128, -128, True), (1, 48, 1, False, acts[0], 127, 127, True),
             (1, 1, 16, True, acts[2], 127, -128, False), (1, 16, 1, False, acts[3], -128, 0, True),
             (1, 32, 2, True, acts[0], 0, -128, False), (2, 40, 3, False, acts[1], -1, 127, True),
             (1, 18, 10, True, acts[0], -128, 127, True), (3, 3, 5, False, acts[2], 127, -128, True),
             (1, 12, 4, True, acts[3], 5, 127, False), (1, 16, 8, False, acts[0], -128, -128, False)]
    tensors, ops, ins, outs = [], [], [], []
    for k, (batches, depth, units, per_channel, act, in_zp, out_zp, with_bias) in enumerate(cases):
        rng = np.random.default_rng(100 + k)
        w_scale = list(rng.uniform(0.002, 0.02, units)) if per_channel else 0.01
        n = len(tensors)
        tensors += [T((batches, depth), "int8", 0.05, in_zp),
                    T((units, depth), "int8", w_scale, [0] * units if per_channel else 0,
                      data=rng_int8(rng, (units, depth))),
                    T((batches, units), "int8", 0.015 * np.sqrt(depth), out_zp)]
        inputs = [n, n + 1, -1]
        if with_bias:
            tensors.append(T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
                             data=rng.integers(-3000, 3000, units).astype(np.int32)))
            inputs[2] = n + 3
        opts = options("FullyConnectedOptions", fusedActivationFunction=act)
        ops.append(Op("FULLY_CONNECTED", inputs, [n + 2], opts))
        ins.append(n)
        outs.append(n + 2)
    model = build(tensors, ops, ins, outs)
    calls = compile_graph(parse_model(model)).calls
    for c in calls:  # the entry point: depth 1, units < 4, whether units % 4 leaves a tail, the activation range
        act = "full" if (c.params["act_min"], c.params["act_max"]) == (-128, 127) else "clamp"
        units = c.params["units"]
        kind = f"few{units}" if units < 4 else "short" if units % 4 else "blocks"
        if c.params["depth"] == 1:
            kind = "depth1pc" if c.params["per_channel"] else "depth1"
        elif units == 1 and c.params["batches"] == 1:
            kind = "few1row"
        assert c.function == f"mcf_fully_connected_s8_{kind}_{act}"
    assert len({c.function for c in calls}) == 9
    check_bit_exact(model, count=3, paths=("fast", "portable", "dsp-emulated", *RV32_PATH))


def test_short_layout():
    """Whole blocks as the fast path's; the last units as int16 pairs (w0, w2), (w1, w3) per group."""
    from mcuforge.generator.ops.fully_connected import fc_fast_layout, fc_short_layout

    w = np.arange(-60, 6 * 7 - 60, dtype=np.int8).reshape(6, 7)
    words = fc_short_layout(w)
    head = fc_fast_layout(w[:4])
    assert list(words[:len(head)]) == list(head)
    tail = words[len(head):].view(np.int16).reshape(2, 2, 2, 2)  # [group, unit, word, pair]
    padded = np.zeros((2, 8), dtype=np.int16)
    padded[:, :7] = w[4:]
    for g in range(2):
        for u in range(2):
            x = padded[u, 4 * g:4 * g + 4]
            assert list(tail[g, u].reshape(-1)) == [x[0], x[2], x[1], x[3]]
    assert len(fc_short_layout(w[:4])) == len(head)


def test_few_units_with_sums_near_int32_edge():
    """Layers of 1..3 units whose biases come near int32's edge (a TFLite Micro example model has
    them): the doubled sum of the short output stage could overflow, so the _fewN_wide entry points
    requantize in 64 bits; one and several rows, per tensor and per channel, clamped and not, with
    and without a partial group; bit-exact on every path."""
    from kernel_check import RV32_PATH
    from tflite_builder import Op, build

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model

    # batches, depth, units, per_channel, activation, input zero point, output zero point
    cases = [(3, 32, 2, False, Activation.NONE, -128, 2), (2, 7, 3, True, Activation.RELU, 127, -128),
             (1, 48, 1, False, Activation.NONE, 0, -7), (2, 5, 2, True, Activation.RELU_N1_TO_1, -1, 0)]
    tensors, ops, ins, outs = [], [], [], []
    for k, (batches, depth, units, per_channel, act, in_zp, out_zp) in enumerate(cases):
        rng = np.random.default_rng(200 + k)
        w_scale = list(rng.uniform(0.005, 0.02, units)) if per_channel else 0.01
        w = rng_int8(rng, (units, depth))
        # folded biases up to ~2^31 - 2^20: 2 * acc leaves int32, acc does not
        edge = 2**31 - 2**20 - 128 * 128 * depth
        bias = rng.integers(-edge, edge, units)
        bias[0] = edge if k % 2 else -edge
        bias = bias + in_zp * w.astype(np.int64).sum(axis=1)  # the folded bias stays within `edge`
        n = len(tensors)
        tensors += [T((batches, depth), "int8", 0.05, in_zp),
                    T((units, depth), "int8", w_scale, [0] * units if per_channel else 0, data=w),
                    T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
                      data=np.clip(bias, -(2**31), 2**31 - 1).astype(np.int32)),
                    T((batches, units), "int8", 1.0e4, out_zp)]  # outputs of +-2^31 * 5e-8 ~ +-107
        ops.append(Op("FULLY_CONNECTED", [n, n + 1, n + 2], [n + 3],
                      options("FullyConnectedOptions", fusedActivationFunction=act)))
        ins.append(n)
        outs.append(n + 3)
    model = build(tensors, ops, ins, outs)
    calls = compile_graph(parse_model(model)).calls
    assert [c.function for c in calls] == [f"mcf_fully_connected_s8_few{c[2]}_wide" for c in cases]
    check_bit_exact(model, count=4, paths=("fast", "portable", "dsp-emulated", *RV32_PATH))


def test_depth_one_layers():
    """Layers of one input per output (the first layer of TFLite Micro's hello_world: 1 -> 16): the
    depth-1 entry points, {2 * bias, 2 * weight} per unit and one multiply-add per output; units
    that leave 0..3 over four, one and several rows, per tensor and per channel, full range and
    clamped, zero points at the int8 boundaries, with and without a bias; bit-exact on the fast,
    portable, DSP-emulated and RV32-emulated paths."""
    from kernel_check import RV32_PATH
    from tflite_builder import Op, build

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model
    from mcuforge.generator.ops.fully_connected import fc_depth1_layout

    acts = [Activation.NONE, Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1]
    # batches, units, per_channel, activation, input zero point, output zero point, bias
    cases = [(1, 16, False, acts[1], -128, -128, True), (1, 1, False, acts[0], 127, 5, True),
             (3, 7, False, acts[0], 0, 127, False), (2, 6, True, acts[2], -128, -128, True),
             (1, 13, True, acts[0], 127, 0, True), (1, 2, False, acts[3], -1, 3, True),
             (4, 5, False, acts[1], 9, -20, True), (1, 3, True, acts[1], -7, 127, False)]
    tensors, ops, ins, outs = [], [], [], []
    for k, (batches, units, per_channel, act, in_zp, out_zp, with_bias) in enumerate(cases):
        rng = np.random.default_rng(300 + k)
        w_scale = list(rng.uniform(0.002, 0.02, units)) if per_channel else 0.01
        n = len(tensors)
        tensors += [T((batches, 1), "int8", 0.05, in_zp),
                    T((units, 1), "int8", w_scale, [0] * units if per_channel else 0, data=rng_int8(rng, (units, 1))),
                    T((batches, units), "int8", 0.02, out_zp)]
        inputs = [n, n + 1, -1]
        if with_bias:
            tensors.append(T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
                             data=rng.integers(-3000, 3000, units).astype(np.int32)))
            inputs[2] = n + 3
        opts = options("FullyConnectedOptions", fusedActivationFunction=act)
        ops.append(Op("FULLY_CONNECTED", inputs, [n + 2], opts))
        ins.append(n)
        outs.append(n + 2)
    model = build(tensors, ops, ins, outs)
    calls = compile_graph(parse_model(model)).calls
    for c, case in zip(calls, cases, strict=True):
        act = "full" if (c.params["act_min"], c.params["act_max"]) == (-128, 127) else "clamp"
        assert c.function == f"mcf_fully_connected_s8_depth1{'pc' if case[2] else ''}_{act}"
    assert len({c.function for c in calls}) == 4  # all four entry points
    check_bit_exact(model, count=4, paths=("fast", "portable", "dsp-emulated", *RV32_PATH))
    words = fc_depth1_layout(np.array([[3], [-128]], dtype=np.int8), np.array([-5, 2**29]))
    assert list(words.view(np.int32)) == [-10, 6, 2**30, -256]


def depth_one_model() -> bytes:
    """One graph input x [2, 1], one output: the depth-1 entry points side by side, on both rows
    (per tensor and per channel, full range and clamped: 6, 5, 3 and 7 units) and on one row (x split
    in two, 13 units each, the halves concatenated back); all outputs in one quantization, along
    axis 1 into [2, 34]. One graph input and one output for the emulated boards' firmware
    (tests/test_kernels_on_device.py), which is at its 255 of each."""
    from tflite_builder import Op, build

    rng = np.random.default_rng(7)
    q = (0.02, -9)
    tensors = [T((2, 1), "int8", 0.05, 9)]
    ops: list = []

    def fc(src: int, rows: int, units: int, per_channel: bool, act: int, weights: int | None = None) -> int:
        nonlocal tensors
        w_scale = list(rng.uniform(0.002, 0.02, units)) if per_channel else 0.01
        if weights is None:
            tensors += [T((units, 1), "int8", w_scale, [0] * units if per_channel else 0,
                          data=rng_int8(rng, (units, 1))),
                        T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
                          data=rng.integers(-3000, 3000, units).astype(np.int32))]
            weights = len(tensors) - 2
        tensors.append(T((rows, units), "int8", *q))
        out = len(tensors) - 1
        ops.append(Op("FULLY_CONNECTED", [src, weights, weights + 1], [out],
                      options("FullyConnectedOptions", fusedActivationFunction=act)))
        return out

    parts = [fc(0, 2, 6, False, Activation.NONE), fc(0, 2, 5, False, Activation.RELU),
             fc(0, 2, 3, True, Activation.NONE), fc(0, 2, 7, True, Activation.RELU6)]
    tensors += [T((), "int32", 0.0, 0, data=np.array(0, dtype=np.int32)), T((1, 1), "int8", 0.05, 9),
                T((1, 1), "int8", 0.05, 9)]
    ops.append(Op("SPLIT", [len(tensors) - 3, 0], [len(tensors) - 2, len(tensors) - 1],
                  options("SplitOptions", numSplits=2)))
    halves = [len(tensors) - 2, len(tensors) - 1]
    top = fc(halves[0], 1, 13, False, Activation.NONE)
    bottom = fc(halves[1], 1, 13, False, Activation.NONE, weights=top - 2)
    tensors.append(T((2, 13), "int8", *q))
    ops.append(Op("CONCATENATION", [top, bottom], [len(tensors) - 1], options("ConcatenationOptions", axis=0)))
    parts.append(len(tensors) - 1)
    tensors.append(T((2, 34), "int8", *q))
    ops.append(Op("CONCATENATION", parts, [len(tensors) - 1], options("ConcatenationOptions", axis=1)))
    return build(tensors, ops, [0], [len(tensors) - 1])


def device_models() -> dict[str, bytes]:
    """For the emulated boards (tests/test_kernels_on_device.py)."""
    return {"fc_depth_1": depth_one_model()}


def test_depth_one_model_for_the_boards():
    """The boards' depth-1 model runs every depth-1 entry point, the one-row block included; bit-exact
    on the host paths here (the assembly runs on the emulated boards)."""
    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model

    model = depth_one_model()
    calls = compile_graph(parse_model(model)).calls
    fc = [c for c in calls if c.kernel == "fully_connected_s8"]
    assert {c.function for c in fc} == {f"mcf_fully_connected_s8_{k}_{a}" for k in ("depth1", "depth1pc")
                                        for a in ("full", "clamp")}
    assert sorted(c.params["batches"] for c in fc) == [1, 1, 2, 2, 2, 2]
    check_bit_exact(model, count=4)
