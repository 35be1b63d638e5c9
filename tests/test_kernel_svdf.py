"""SVDF (int8 input/output, int16 or int8 state) against TFLite Micro over streams of invokes: the
outputs and the state tensor (kept in the state buffer) compared after every step, on every
kernel path."""

import numpy as np
import pytest
from kernel_check import KERNEL_PATHS
from tflite_builder import Activation, Op, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import random_inputs, validate_compiled

STEPS = 12


def svdf_model(batches: int, input_size: int, units: int, rank: int, memory: int, state_dtype: str,
               in_zp: int = 3, state_zp: int = 0, out_zp: int = -4, act: int = Activation.RELU,
               seed: int = 0) -> bytes:
    tensors, op = svdf_parts(batches, input_size, units, rank, memory, state_dtype, in_zp, state_zp, out_zp, act, seed)
    return build(tensors, [op], [0], [5])


def svdf_parts(batches: int, input_size: int, units: int, rank: int, memory: int, state_dtype: str,
               in_zp: int = 3, state_zp: int = 0, out_zp: int = -4, act: int = Activation.RELU,
               seed: int = 0) -> tuple[list[T], Op]:
    """The six tensors of one SVDF (input 0, state 4, output 5) and the operator."""
    rng = np.random.default_rng(seed)
    filters = units * rank
    state_scale, wt_scale = (0.02, 0.004) if state_dtype == "int16" else (0.06, 0.004)
    if state_dtype == "int16":
        wt = rng.integers(-2500, 2500, (filters, memory)).astype(np.int16)
    else:
        wt = rng_int8(rng, (filters, memory))
    tensors = [
        T((batches, input_size), "int8", 0.05, in_zp),
        T((filters, input_size), "int8", 0.01, 0, data=rng_int8(rng, (filters, input_size))),
        T((filters, memory), state_dtype, wt_scale, 0, data=wt),
        T((units,), "int32", float(np.float32(state_scale) * np.float32(wt_scale)), 0,
          data=rng.integers(-20000, 20000, units).astype(np.int32)),
        T((batches, filters * memory), state_dtype, state_scale, state_zp, variable=True),
        T((batches, units), "int8", 3.0 if state_dtype == "int16" else 0.3, out_zp),
    ]
    opts = options("SVDFOptions", rank=rank, fusedActivationFunction=act)
    return tensors, Op("SVDF", [0, 1, 2, 3, 4], [5], opts)


def check_stream(model: bytes) -> None:
    graph = parse_model(model, name="svdf.tflite")
    cm = compile_graph(graph)
    assert cm.state.bytes >= graph.tensors[4].nbytes and 4 not in cm.plan.offsets  # state not in the arena
    inputs = random_inputs(graph, STEPS, 1)
    for path, flags in KERNEL_PATHS.items():
        r = validate_compiled(cm, model, inputs, extra_flags=flags)
        assert r.bit_exact == STEPS and r.state_bit_exact == STEPS, (path, r.to_json())


@pytest.mark.parametrize("batches,input_size,units,rank,memory,state_dtype,state_zp", [
    (1, 16, 8, 1, 10, "int16", 0),
    (2, 7, 3, 2, 4, "int16", 0),
    (1, 33, 5, 3, 1, "int16", 0),
    (1, 12, 4, 1, 6, "int8", 0),
    (3, 9, 2, 2, 5, "int8", -7),
])
def test_svdf_stream(batches, input_size, units, rank, memory, state_dtype, state_zp):
    check_stream(svdf_model(batches, input_size, units, rank, memory, state_dtype, state_zp=state_zp,
                            seed=input_size * units))


def test_svdf_state_resets_between_streams():
    """reset_state() puts the state back: a second stream from the start gives the same outputs."""
    model = svdf_model(1, 8, 4, 1, 5, "int8", state_zp=5)
    graph = parse_model(model, name="svdf.tflite")
    cm = compile_graph(graph)
    assert [v.uniform for v in cm.state.variables] == [5]  # TFLite Micro fills int8 state with its zero point
    r = validate_compiled(cm, model, random_inputs(graph, STEPS, 2))
    assert r.bit_exact == STEPS and r.state_bit_exact == STEPS


def test_svdf_refusals():
    model = svdf_model(1, 8, 4, 1, 5, "int16")
    graph = parse_model(model, name="svdf.tflite")
    graph.tensors[4].is_variable = False
    with pytest.raises(UnsupportedModelError, match="variable tensor"):
        compile_graph(graph)
    rng = np.random.default_rng(0)
    tensors = [T((1, 8), "int8", 0.05, 0), T((4, 8), "int8", 0.01, 0, data=rng_int8(rng, (4, 8))),
               T((4, 5), "int16", 0.004, 0, data=np.ones((4, 5), np.int16)),
               T((1, 20), "int16", 0.02, 0, variable=True), T((1, 4), "int8", 0.5, 0)]
    no_bias = build(tensors, [Op("SVDF", [0, 1, 2, -1, 3], [4], options("SVDFOptions", rank=1))], [0], [4])
    with pytest.raises(UnsupportedModelError, match="needs its bias"):
        compile_graph(parse_model(no_bias, name="svdf.tflite"))


def test_svdf_feature_scale_in_double():
    """keyword_scrambled's first SVDF: with its three scales the feature sum -162686 lands on a
    rounding tie whose side depends on the effective scale being a double product (-20214, as the
    interpreter gives) or a float32 one (-20215)."""
    rng = np.random.default_rng(5)
    w = np.array([[-127, -127, -127, -127, -127, -1, -2]], np.int8)
    tensors = [
        T((1, 7), "int8", 0.05920833349227905, -128),
        T((1, 7), "int8", 0.009171206504106522, 0, data=w),
        T((1, 4), "int16", 0.002, 0, data=rng.integers(-2000, 2000, (1, 4)).astype(np.int16)),
        T((1,), "int32", float(np.float32(0.004370165057480335) * np.float32(0.002)), 0, data=np.array([7], np.int32)),
        T((1, 4), "int16", 0.004370165057480335, 0, variable=True),
        T((1, 1), "int8", 0.5, 0),
    ]
    model = build(tensors, [Op("SVDF", [0, 1, 2, 3, 4], [5], options("SVDFOptions", rank=1))], [0], [5])
    x = np.array([[127, 127, 127, 127, 127, 127, 125]], np.int8)
    cm = compile_graph(parse_model(model, name="svdf.tflite"))
    r = validate_compiled(cm, model, [[x], [x]])
    assert r.state_bit_exact == 2, r.to_json()
