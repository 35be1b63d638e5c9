"""A 16x8 model end to end: int16 graph input -> FULLY_CONNECTED (int8 per-channel weights, int64
bias) -> ADD (a constant int16 offset) -> SOFTMAX (int16) -> int16 probabilities, plus their
DEQUANTIZE (float32) and a QUANTIZE to int8: `mcuforge validate`, the generated C API, and
`mcuforge test` on an emulated Cortex-M4 through the serial protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_type_checks import check_on_cortex_m4, check_validate, mcuforge, needs_firmware_tools
from tflite_builder import Op, T, build, options, rng_int8

FEATURES = (1, 40)
UNITS = 12


def int16_model(seed: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    w_scale = list(rng.uniform(0.002, 0.01, UNITS))
    in_scale = 1.0 / 4096
    t = [T(FEATURES, "int16", in_scale, 0, name="features"),
         T((UNITS, FEATURES[1]), "int8", w_scale, [0] * UNITS, data=rng_int8(rng, (UNITS, FEATURES[1]))),
         T((UNITS,), "int64", [in_scale * s for s in w_scale], [0] * UNITS,
           data=rng.integers(-40000, 40000, UNITS).astype(np.int64)),
         T((1, UNITS), "int16", 0.0004, 0, name="logits"),
         T((1, UNITS), "int16", 0.0003, 0, data=rng.integers(-3000, 3000, (1, UNITS)).astype(np.int16)),
         T((1, UNITS), "int16", 0.0005, 0),
         T((1, UNITS), "int16", 1.0 / 32768, 0, name="probs"),
         T((1, UNITS), "float32", name="probs_float"),
         T((1, UNITS), "int8", 1.0 / 256, -128, name="probs_int8")]
    ops = [Op("FULLY_CONNECTED", [0, 1, 2], [3], options("FullyConnectedOptions")),
           Op("ADD", [3, 4], [5], options("AddOptions")),
           Op("SOFTMAX", [5], [6], options("SoftmaxOptions", beta=1.0)),
           Op("DEQUANTIZE", [6], [7]),
           Op("QUANTIZE", [6], [8])]
    return build(t, ops, [0], [6, 7, 8])


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    path = tmp_path / "int16_model.tflite"
    path.write_bytes(int16_model())
    return path


def test_validate_random_and_given_int16_inputs(model_path: Path, tmp_path: Path) -> None:
    # the extremes and a ramp (a batch of three)
    check_validate(model_path, np.stack([np.full(FEATURES, -32768), np.full(FEATURES, 32767),
                                         np.linspace(-32768, 32767, FEATURES[1]).reshape(FEATURES)]).astype(np.int16),
                   tmp_path)


def test_generated_api_types_and_arena(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    proc = mcuforge("compile", str(model_path), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    header = (out / "model.h").read_text()
    assert "/* input 0: 'features' int16_t [1, 40] */" in header
    assert "((int16_t *)" in header.split("input 0:")[1].split("\n")[1]
    assert "/* output 0: 'probs' int16_t [1, 12] */" in header
    assert "/* output 1: 'probs_float' float [1, 12] */" in header
    assert "/* output 2: 'probs_int8' int8_t [1, 12] */" in header
    source = (out / "model.c").read_text()
    for fn in ("mcf_fully_connected_s16(", "mcf_add_s16(", "mcf_softmax_s16(", "mcf_dequantize_s16_f32(",
               "mcf_requantize_s16_s8("):
        assert fn in source


@pytest.mark.slow
@needs_firmware_tools
def test_int16_model_on_emulated_cortex_m4(model_path: Path, tmp_path: Path) -> None:
    check_on_cortex_m4(model_path, tmp_path, {
        "low": np.full(FEATURES, -32768, np.int16), "high": np.full(FEATURES, 32767, np.int16),
        "ramp": np.linspace(-32768, 32767, FEATURES[1]).astype(np.int16).reshape(FEATURES)})


def test_int16_tensors_count_two_bytes_in_the_plan() -> None:
    """The planner sizes an int16 buffer at two bytes per element, and the arena stays at or under
    the live-tensor bound (computed from those sizes)."""
    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.frontends.tflite import parse_model

    graph = parse_model(int16_model(), name="int16_model.tflite")
    cm = compile_graph(graph)
    sizes = {b.id: b.size for b in cm.plan.buffers}
    assert sizes[cm.buffer_of[0]] == 80  # the int16 input: 40 elements
    assert sizes[cm.buffer_of[3]] == 24  # the FULLY_CONNECTED output: 12 int16
    for index, buffer in cm.buffer_of.items():
        t = graph.tensors[index]
        assert sizes[buffer] >= t.nbytes == t.size * {"int16": 2, "int8": 1, "float32": 4}[t.dtype]
    # the input and the FULLY_CONNECTED output are alive together
    assert cm.plan.lower_bound >= 80 + 24
    assert cm.plan.arena_bytes <= -(-cm.plan.lower_bound // 16) * 16


@pytest.mark.parametrize("opcode,ins,outs", [
    ("HARD_SWISH", [T((1, 8), "int16", 0.001, 0)], [T((1, 8), "int16", 0.001, 0)]),  # no int16 kernel in TFLM
    ("REDUCE_MAX", [T((2, 8), "int16", 0.001, 0), T((1,), "int32", data=np.array([1], np.int32))],
     [T((2,), "int16", 0.001, 0)]),
    ("SOFTMAX", [T((1, 8), "int16", 0.001, 0)], [T((1, 8), "int16", 1.0 / 256, 0)]),  # output scale not 1/32768
])
def test_int16_refusals_name_operator_and_reason(opcode, ins, outs, tmp_path: Path) -> None:
    from tflite_builder import single_op

    path = tmp_path / "m.tflite"
    path.write_bytes(single_op(opcode, ins, outs))
    proc = mcuforge("validate", str(path))
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr
    assert f"({opcode})" in proc.stderr and ("int16" in proc.stderr or "32768" in proc.stderr), proc.stderr
