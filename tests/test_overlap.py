"""Outputs over dying inputs (generator/overlap.py): the proof, and the plans it allows, bit-exact.

* the access model: the last reader of every input byte against a plain loop over the windows, and
  the minimum shift against the definition (every larger shift safe, the one below not);
* random chains of convolutions, depthwise convolutions, pooling, ADD and activations, planned with
  their overlaps (4-byte alignment, so the shifts used are within 3 bytes of the proven minimum),
  built for the host on every kernel path and compared with TFLite Micro;
* a shift that is too small must make that comparison fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kernel_check import KERNEL_PATHS
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8

from mcuforge.generator import planner
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops import conv as conv_ops
from mcuforge.generator.overlap import (
    check_shift,
    elementwise_access,
    min_shift,
    window_access,
    window_min_shift,
)
from mcuforge.generator.validate import random_inputs, validate_compiled

# ---- the access model and the minimum shift --------------------------------------------------------


@st.composite
def geometries(draw: st.DrawFn) -> dict[str, int]:
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers((fh - 1) * dh + 1, 9)), draw(st.integers((fw - 1) * dw + 1, 9))
    same = draw(st.booleans())
    geo = {"batches": draw(st.integers(1, 2)), "input_h": h, "input_w": w, "input_c": draw(st.integers(1, 5)),
           "output_c": draw(st.integers(1, 9)), "stride_h": sh, "stride_w": sw, "filter_h": fh, "filter_w": fw,
           "dilation_h": dh, "dilation_w": dw}
    for axis, size, f, s, d in (("h", h, fh, sh, dh), ("w", w, fw, sw, dw)):
        oh, pad = conv_ops.padding_offsets("SAME" if same else "VALID", size, f, s, d)
        geo[f"output_{axis}"] = oh
        geo["pad_top" if axis == "h" else "pad_left"] = pad
    return geo


def _reads_by_loop(g: dict[str, int], pixels_per_step: int = 1) -> np.ndarray:
    """Last step reading each input byte, by walking every output pixel's window span."""
    read = np.full(g["batches"] * g["input_h"] * g["input_w"] * g["input_c"], -1, dtype=np.int64)
    p = 0
    for b in range(g["batches"]):
        for oy in range(g["output_h"]):
            for ox in range(g["output_w"]):
                y0, x0 = oy * g["stride_h"] - g["pad_top"], ox * g["stride_w"] - g["pad_left"]
                for y in range(max(0, y0), min(g["input_h"], y0 + (g["filter_h"] - 1) * g["dilation_h"] + 1)):
                    for x in range(max(0, x0), min(g["input_w"], x0 + (g["filter_w"] - 1) * g["dilation_w"] + 1)):
                        at = ((b * g["input_h"] + y) * g["input_w"] + x) * g["input_c"]
                        read[at:at + g["input_c"]] = p // pixels_per_step
                p += 1
    return read


@settings(max_examples=200, deadline=None)
@given(geometries())
def test_window_reads_match_a_plain_loop(g: dict[str, int]) -> None:
    read, write = window_access(**g)
    assert np.array_equal(read, _reads_by_loop(g))
    assert write.size == g["batches"] * g["output_h"] * g["output_w"] * g["output_c"]


@settings(max_examples=200, deadline=None)
@given(geometries())
def test_min_shift_is_safe_from_there_on_and_tight(g: dict[str, int]) -> None:
    read, write = window_access(**g)
    s = window_min_shift(**g)
    for shift in range(s, read.size + write.size + 1):  # every larger shift is safe too
        assert check_shift(read, write, shift, reads_first=False), shift
    prefix = np.maximum.accumulate(read)
    if s > 0:  # one byte less breaks the (monotone) criterion the planner relies on
        assert not check_shift(prefix, write, s - 1, reads_first=False)


@pytest.mark.parametrize("in_size,out_size,want", [(1, 1, 0), (4, 1, 0), (1, 4, None)])
def test_elementwise_shift(in_size: int, out_size: int, want: int | None) -> None:
    read, write = elementwise_access(50, in_size, out_size)
    s = min_shift(read, write, reads_first=True)
    if want is not None:
        assert s == want
    assert check_shift(read, write, s, reads_first=True)
    if s > 0:
        assert not check_shift(read, write, s - 1, reads_first=True)
    # reading after writing within an element would forbid full overlap
    assert min_shift(read, write, reads_first=False) > s


# ---- random chains, planned with their overlaps, against TFLite Micro ------------------------------

SAME, VALID = Padding.SAME, Padding.VALID


def _conv_like(rng: np.random.Generator, draw: st.DrawFn, tensors: list[T], x: int, shape: tuple[int, ...],
               scale: float, zp: int) -> tuple[Op, tuple[int, ...], float, int]:
    n, h, w, c = shape
    kind = draw(st.sampled_from(["conv", "dw", "avg", "max"]))
    fh, fw = draw(st.integers(1, min(3, h))), draw(st.integers(1, min(3, w)))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pad = draw(st.sampled_from([SAME, VALID]))
    oh = -(-h // sh) if pad == SAME else (h - fh) // sh + 1
    ow = -(-w // sw) if pad == SAME else (w - fw) // sw + 1
    act = draw(st.sampled_from([Activation.NONE, Activation.RELU]))
    if kind in ("avg", "max"):
        op = Op("AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D", [x], [len(tensors)],
                options("Pool2DOptions", padding=pad, strideH=sh, strideW=sw, filterHeight=fh, filterWidth=fw,
                        fusedActivationFunction=act))
        tensors.append(T((n, oh, ow, c), "int8", scale, zp))
        return op, (n, oh, ow, c), scale, zp
    oc = draw(st.integers(1, 12)) if kind == "conv" else c
    wshape = (oc, fh, fw, c) if kind == "conv" else (1, fh, fw, c)
    k = fh * fw * (c if kind == "conv" else 1)
    w_scale = 0.01
    out_scale = float(scale * w_scale * 80 * np.sqrt(k) / 40)
    out_zp = int(draw(st.integers(-20, 20)))
    wi = len(tensors)
    tensors.append(T(wshape, "int8", w_scale, 0, axis=0 if kind == "conv" else 3, data=rng_int8(rng, wshape)))
    tensors.append(T((oc,), "int32", scale * w_scale, 0, data=rng.integers(-3000, 3000, oc).astype(np.int32)))
    tensors.append(T((n, oh, ow, oc), "int8", out_scale, out_zp))
    if kind == "conv":
        op = Op("CONV_2D", [x, wi, wi + 1], [wi + 2], options("Conv2DOptions", padding=pad, strideH=sh, strideW=sw,
                                                              fusedActivationFunction=act))
    else:
        op = Op("DEPTHWISE_CONV_2D", [x, wi, wi + 1], [wi + 2],
                options("DepthwiseConv2DOptions", padding=pad, strideH=sh, strideW=sw, depthMultiplier=1,
                        fusedActivationFunction=act))
    return op, (n, oh, ow, oc), out_scale, out_zp


@st.composite
def chains(draw: st.DrawFn) -> bytes:
    """input -> 1..4 of (conv | depthwise | pool | ADD with the previous tensor | RELU6 | HARD_SWISH)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(2, 10)), draw(st.integers(2, 10)), draw(st.integers(1, 9)))
    scale, zp = 0.05, int(draw(st.integers(-128, 127)))
    tensors = [T(shape, "int8", scale, zp)]
    ops: list[Op] = []
    x, prev = 0, None
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["window", "window", "add", "relu6", "hard_swish"]))
        if kind == "add" and prev is not None and tensors[prev].shape == shape:
            out_scale = 0.08
            tensors.append(T(shape, "int8", out_scale, 3))
            ops.append(Op("ADD", [x, prev], [len(tensors) - 1], options("AddOptions")))
            prev, x, scale, zp = x, len(tensors) - 1, out_scale, 3
            continue
        if kind in ("relu6", "hard_swish"):
            out_scale = scale if kind == "relu6" else scale * 0.8
            tensors.append(T(shape, "int8", out_scale, zp if kind == "relu6" else -5))
            ops.append(Op("RELU6" if kind == "relu6" else "HARD_SWISH", [x], [len(tensors) - 1]))
            prev, x, scale, zp = x, len(tensors) - 1, out_scale, tensors[-1].zero_point
            continue
        op, shape, scale, zp = _conv_like(rng, draw, tensors, x, shape, scale, zp)
        ops.append(op)
        prev, x = x, op.outputs[0]
    return build(tensors, ops, [0], [x])


def _check(model: bytes, count: int = 3) -> int:
    """Plans the model (4-byte alignment: shifts within 3 bytes of the proven minimum), checks the
    plan and runs it on every kernel path against TFLite Micro; the number of overlaps used."""
    cm = compile_graph(parse_model(model, name="chain.tflite"))
    assert planner.plan_violations(cm.plan.buffers, cm.plan.offsets, cm.plan.arena_bytes, cm.plan.allow) == []
    inputs = random_inputs(cm.graph, count, 0)
    for path, flags in KERNEL_PATHS.items():
        result = validate_compiled(cm, model, inputs, extra_flags=flags)
        assert result.bit_exact == result.inputs, (path, [u.describe() for u in cm.overlaps], result.to_json())
    return len(cm.overlaps)


@pytest.fixture
def tight_alignment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "ALIGNMENT", 4)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chains())
def test_random_chains_with_overlaps_are_bit_exact(tight_alignment: None, model: bytes) -> None:
    cm = compile_graph(parse_model(model, name="chain.tflite"))
    assume(cm.overlaps)  # only plans that use an overlap say something here
    assert _check(model) > 0


def _pw_dw_chain(h: int = 12, w: int = 9, c: int = 8, seed: int = 3) -> bytes:
    """input -> 1x1 conv -> 3x3 depthwise (SAME): the depthwise output overlaps its input."""
    rng = np.random.default_rng(seed)
    tensors = [T((1, h, w, c), "int8", 0.05, 4),
               T((c, 1, 1, c), "int8", 0.01, 0, data=rng_int8(rng, (c, 1, 1, c))),
               T((c,), "int32", 0.0005, 0, data=rng.integers(-3000, 3000, c).astype(np.int32)),
               T((1, h, w, c), "int8", 0.08, -3),
               T((1, 3, 3, c), "int8", 0.01, 0, axis=3, data=rng_int8(rng, (1, 3, 3, c))),
               T((c,), "int32", 0.0008, 0, data=rng.integers(-3000, 3000, c).astype(np.int32)),
               T((1, h, w, c), "int8", 0.1, 2)]
    return build(tensors, [Op("CONV_2D", [0, 1, 2], [3], options("Conv2DOptions", padding=SAME, strideH=1, strideW=1)),
                           Op("DEPTHWISE_CONV_2D", [3, 4, 5], [6],
                              options("DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1,
                                                      depthMultiplier=1))], [0], [6])


def test_overlapped_chain_is_bit_exact(tight_alignment: None) -> None:
    model = _pw_dw_chain()
    cm = compile_graph(parse_model(model))
    dw = [u for u in cm.overlaps if u.opcode == "DEPTHWISE_CONV_2D"]
    assert dw and dw[0].shift - dw[0].min_shift < 4
    assert _check(model) >= 1


def test_a_too_small_shift_is_caught(tight_alignment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pixels less than the proof allows: the depthwise output overwrites window rows it still
    has to read, and the comparison with TFLite Micro fails."""
    real = conv_ops.window_min_shift

    def too_small(**g: int) -> int:
        return max(0, real(**g) - 2 * g["input_w"] * g["input_c"]) if g["filter_h"] == 3 else real(**g)

    monkeypatch.setattr(conv_ops, "window_min_shift", too_small)
    model = _pw_dw_chain()
    cm = compile_graph(parse_model(model))
    assert any(u.opcode == "DEPTHWISE_CONV_2D" for u in cm.overlaps)
    result = validate_compiled(cm, model, random_inputs(cm.graph, 2, 0))
    assert result.bit_exact < result.inputs
