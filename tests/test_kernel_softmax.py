"""SOFTMAX int8 -> int8 against TFLite Micro, bit for bit.

Uniform random inputs make most exp() terms vanish, so every case also runs rows whose values lie
close together (many terms of similar size), rows with ties at the maximum, constant rows and
rows holding both -128 and 127, over input scales where diff_min cuts at different places.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.softmax import softmax_scaling
from mcuforge.generator.validate import validate_compiled


def softmax_model(shape, scale, zp, beta=1.0, out_dtype="int8", out_scale=1 / 256, out_zp=-128):
    return single_op("SOFTMAX", [T(shape, "int8", scale, zp)], [T(shape, out_dtype, out_scale, out_zp)],
                     options("SoftmaxOptions", beta=beta))


def structured_inputs(shape, seed, beta_scale):
    """Batches of inputs that exercise the interesting parts of the softmax arithmetic.

    TFLite stops the process when a row's sum of exps reaches 512 (only possible for rows of
    512 or more), so batches that could get near it are left out.
    """
    rng = np.random.default_rng(seed)
    depth = shape[-1]
    rows = int(np.prod(shape[:-1], dtype=np.int64))

    def rows_of(fn):
        return np.stack([fn() for _ in range(rows)]).reshape(shape).astype(np.int8)

    def narrow(width):
        def row():
            top = int(rng.integers(-128 + width, 128))
            return rng.integers(top - width, top, size=depth, endpoint=True)
        return row

    def ties():
        r = rng.integers(-128, 100, size=depth)
        r[rng.integers(0, depth, size=max(1, depth // 3))] = 110
        return r

    def extremes():
        r = rng.choice([-128, -127, -1, 0, 1, 126, 127], size=depth)
        r[rng.integers(0, depth)] = 127
        r[rng.integers(0, depth)] = -128
        return r

    batches = [
        rng.integers(-128, 127, size=shape, endpoint=True).astype(np.int8),
        rows_of(narrow(3)),
        rows_of(narrow(12)),
        rows_of(narrow(60)),
        rows_of(ties),
        rows_of(extremes),
        rows_of(lambda: np.full(depth, int(rng.integers(-128, 128)))),  # constant rows: sum = depth
    ]

    def max_sum(b):
        x = b.reshape(rows, depth).astype(np.float64)
        return float(np.exp(beta_scale * (x - x.max(axis=1, keepdims=True))).sum(axis=1).max())

    return [[b] for b in batches if max_sum(b) < 480]


def check_structured(model: bytes, shape, beta_scale, seed=0):
    graph = parse_model(model, name="test.tflite")
    cm = compile_graph(graph)
    batches = structured_inputs(shape, seed, beta_scale)
    assert len(batches) >= 2
    result = validate_compiled(cm, model, batches)
    assert result.bit_exact == result.inputs, result.to_json()
    return result


# Input scales chosen so that diff_min ranges from "every difference counts" to "only the maximum".
SCALES = [
    0.0005,   # multiplier shift 15: diff_min far below -255
    0.00390625,
    0.02,
    0.1,
    0.3,
    0.5,
    1.0,      # diff_min = -15
    2.7,      # diff_min = -5
    7.5,      # diff_min = -3
    16.0,     # shift 31, diff_min = 0
    300.0,    # multiplier capped at 2^31 - 1
]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("shape", [(10,), (3, 12)])
def test_softmax_scales(shape, scale):
    check_structured(softmax_model(shape, scale, 0), shape, scale, seed=int(scale * 1000) + len(shape))


@pytest.mark.parametrize("shape", [(1,), (7,), (2, 1), (1, 2), (4, 33), (2, 3, 5), (1, 4, 4, 7), (2, 2, 3, 64),
                                   (1, 1, 1, 255), (3, 1, 130)])
@pytest.mark.parametrize("zp", [-128, 0, 127])
def test_softmax_shapes(shape, zp):
    check_structured(softmax_model(shape, 0.0625, zp), shape, 0.0625, seed=sum(shape) + zp + 128)


@pytest.mark.parametrize("beta,scale", [
    (0.5, 0.1), (2.0, 0.1), (0.3, 0.25), (10.0, 0.02), (1e-3, 0.5), (0.001, 0.0001), (3.7, 1.3), (25.0, 0.7),
])
def test_softmax_beta(beta, scale):
    shape = (2, 20)
    check_structured(softmax_model(shape, scale, -5, beta=beta), shape, beta * scale, seed=int(beta * 100))


@pytest.mark.parametrize("depth,scale", [(1001, 0.1), (600, 0.5), (512, 0.2), (4000, 1.0)])
def test_softmax_wide_rows(depth, scale):
    # Rows this long could reach a sum of exps >= 512, which TFLite refuses at run time; the
    # inputs used here stay below that.
    shape = (1, depth)
    check_structured(softmax_model(shape, scale, 3), shape, scale, seed=depth)


@pytest.mark.parametrize("shape,scale,zp,beta", [
    ((1, 10), 0.1, 0, 1.0), ((2, 3, 17), 0.05, -128, 1.0), ((4, 8), 1.5, 127, 0.7), ((1, 300), 0.0078125, 9, 1.0),
])
def test_softmax_random_inputs(shape, scale, zp, beta):
    check_bit_exact(softmax_model(shape, scale, zp, beta), count=6, seed=3)


@pytest.mark.parametrize("kwargs,message", [
    ({"out_scale": 1 / 128}, "scale 1/256 and zero point -128"),
    ({"out_zp": 0}, "scale 1/256 and zero point -128"),
    ({"out_scale": 1 / 255}, "scale 1/256 and zero point -128"),
    ({"out_dtype": "int16", "out_scale": 1 / 65536, "out_zp": 0}, "zero point -32768"),  # int8 -> int16
    ({"scale": 1e-9}, "too small"),
    ({"beta": 0.0}, "too small"),
])
def test_softmax_rejects(kwargs, message):
    args = {"shape": (1, 8), "scale": 0.1, "zp": 0} | kwargs
    model = softmax_model(**args)
    with pytest.raises(UnsupportedModelError, match=message):
        compile_graph(parse_model(model, name="test.tflite"))


def test_softmax_rejects_missing_options():
    model = single_op("SOFTMAX", [T((1, 8), "int8", 0.1, 0)], [T((1, 8), "int8", 1 / 256, -128)])
    with pytest.raises(UnsupportedModelError, match="beta"):
        compile_graph(parse_model(model, name="test.tflite"))


@pytest.mark.parametrize("beta,scale,expected", [
    (1.0, 1.0, (1 << 30, 27, -15)),
    (1.0, 16.0, (1 << 30, 31, 0)),
    (1.0, 300.0, ((1 << 31) - 1, 31, 0)),
    (1.0, 2.0 ** -10, (1 << 30, 17, -(31 << 26 >> 17))),
])
def test_softmax_scaling_values(beta, scale, expected):
    assert softmax_scaling(beta, scale) == expected
