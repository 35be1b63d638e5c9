"""Plain int32 arithmetic of TFLite Micro's audio preprocessor (ADD, SUB, MUL, DIV by a constant,
MINIMUM, MAXIMUM, CONCATENATION, CAST uint32 <-> int32) against TFLite Micro on every kernel path,
and the whole int8 preprocessor bit-exact when MCUFORGE_MODEL_ZOO is set."""

import os
from pathlib import Path

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build, options

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.signal_int32 import divisor_reciprocal

ZOO = os.environ.get("MCUFORGE_MODEL_ZOO")
OPTS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions"}


def binary(opcode: str, shape: tuple[int, ...], const: int | None) -> bytes:
    opts = options(OPTS[opcode]) if opcode in OPTS else None
    b = T((), "int32", data=np.array(const, np.int32)) if const is not None else T(shape, "int32")
    return build([T(shape, "int32"), b, T(shape, "int32")], [Op(opcode, [0, 1], [2], opts)],
                 [0] if const is not None else [0, 1], [2])


@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL", "MINIMUM", "MAXIMUM"])
@pytest.mark.parametrize("const", [None, -128])
def test_binary(opcode, const):
    check_bit_exact(binary(opcode, (3, 40), const), count=3)


@pytest.mark.parametrize("divisor", [666, -7, 1, 2147483647])
def test_div_by_constant(divisor):
    check_bit_exact(binary("DIV", (64,), divisor), count=3)


def test_div_reciprocal_is_exact():
    rng = np.random.default_rng(0)
    ns = [0, 1, -1, 2**31 - 1, -2**31, *rng.integers(-2**31, 2**31, 5000).tolist()]
    for d in (1, 2, 3, 7, 10, 641, 666, -666, 12345677, (1 << 30) + 1, 2**31 - 1, -(2**31 - 1)):
        m, k = divisor_reciprocal(d)
        for n in ns:
            q = (abs(n) * m) >> k
            assert (q if (n < 0) == (d < 0) else -q) == int(abs(n) // abs(d)) * (1 if (n < 0) == (d < 0) else -1)


def test_div_refusals():
    with pytest.raises(UnsupportedModelError, match="constant single-value divisor"):
        compile_graph(parse_model(binary("DIV", (8,), None)))
    with pytest.raises(UnsupportedModelError, match="constant 0"):
        compile_graph(parse_model(binary("DIV", (8,), 0)))


def test_concat_and_cast_through_uint32():
    zeros = T((5,), "int32", data=np.zeros(5, np.int32))
    tensors = [T((12,), "int32"), T((12,), "uint32"), T((12,), "int32"), zeros, T((17,), "int32"),
               T((17,), "uint32"), T((17,), "int32")]
    ops = [Op("CAST", [0], [1]), Op("CAST", [1], [2]),
           Op("CONCATENATION", [3, 2], [4], options("ConcatenationOptions", axis=0)),
           Op("CAST", [4], [5]), Op("CAST", [5], [6])]
    check_bit_exact(build(tensors, ops, [0], [6]), count=3)


@pytest.mark.skipif(not ZOO, reason="MCUFORGE_MODEL_ZOO (the real models) is not set")
def test_audio_preprocessor_int8_bit_exact():
    path = Path(ZOO or "") / "tflite-micro" / "audio_preprocessor_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path.name} is not in MCUFORGE_MODEL_ZOO")
    from test_kernel_signal import frames

    from mcuforge.generator.validate import validate_compiled

    model = path.read_bytes()
    cm = compile_graph(parse_model(model))
    batches = frames(np.random.default_rng(3), (1, 480), 12)
    r = validate_compiled(cm, model, batches)
    assert r.bit_exact == 12 and r.state_bit_exact == 12, r.to_json()
