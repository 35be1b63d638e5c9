"""Every operator TFLite Micro's op resolver registers has a lowering or a refusal of its own here
(not the generic "no kernel"); the operators TFLite Micro computes in float32 only are refused
with that reason, grouped in `inspect`."""

import numpy as np
import pytest
from tflite_builder import Op, T, build

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.ops.base import registry

# The builtin operators of TFLite Micro's MicroMutableOpResolver (its Add* methods), and its custom
# ones under their registered names (the audio front end's Signal* operators aside).
TFLM_BUILTINS = [
    "ABS", "ADD", "ADD_N", "ARG_MAX", "ARG_MIN", "ASSIGN_VARIABLE", "AVERAGE_POOL_2D", "BATCH_MATMUL",
    "BATCH_TO_SPACE_ND", "BROADCAST_ARGS", "BROADCAST_TO", "CALL_ONCE", "CAST", "CEIL", "CONCATENATION", "CONV_2D",
    "COS", "CUMSUM", "DEPTH_TO_SPACE", "DEPTHWISE_CONV_2D", "DEQUANTIZE", "DIV", "DYNAMIC_UPDATE_SLICE", "ELU",
    "EMBEDDING_LOOKUP", "EQUAL", "EXP", "EXPAND_DIMS", "FILL", "FLOOR", "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED",
    "GATHER", "GATHER_ND", "GREATER", "GREATER_EQUAL", "HARD_SWISH", "IF", "L2_NORMALIZATION", "L2_POOL_2D",
    "LEAKY_RELU", "LESS", "LESS_EQUAL", "LOG", "LOG_SOFTMAX", "LOGICAL_AND", "LOGICAL_NOT", "LOGICAL_OR",
    "LOGISTIC", "MAX_POOL_2D", "MAXIMUM", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL", "NEG", "NOT_EQUAL", "PACK", "PAD",
    "PADV2", "PRELU", "QUANTIZE", "READ_VARIABLE", "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RESHAPE",
    "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "REVERSE_V2", "ROUND", "RSQRT", "SELECT_V2", "SHAPE", "SIN",
    "SLICE", "SOFTMAX", "SPACE_TO_BATCH_ND", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE",
    "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "SVDF", "TANH", "TRANSPOSE", "TRANSPOSE_CONV",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNPACK", "VAR_HANDLE", "WHILE", "ZEROS_LIKE"
]
TFLM_CUSTOM = ["CUSTOM:TFLite_Detection_PostProcess", "CUSTOM:CIRCULAR_BUFFER", "CUSTOM:TFLM_DECODE",
               "CUSTOM:ethos-u"]
REFUSED_ELSEWHERE = {"IF", "WHILE",  # control flow: ops/variables.py subgraph_problems
                     "CUSTOM:ethos-u"}  # support.py: the Vela hint
FLOAT_ONLY = ["CEIL", "FLOOR", "ROUND", "SQRT", "SQUARE", "SIN", "COS", "LOG", "NEG", "EXP"]


def test_every_tflm_operator_has_its_own_lowering_or_refusal():
    known = set(registry())
    missing = [code for code in TFLM_BUILTINS + TFLM_CUSTOM if code not in known and code not in REFUSED_ELSEWHERE]
    assert not missing


def _unary_chain(opcodes, dtype="int8"):
    q = (0.1, 0) if dtype == "int8" else (None, None)
    tensors = [T((4,), dtype, *q) for _ in range(len(opcodes) + 1)]
    return build(tensors, [Op(code, [k], [k + 1]) for k, code in enumerate(opcodes)], [0], [len(opcodes)])


@pytest.mark.parametrize("opcode", FLOAT_ONLY)
def test_int8_refused_with_the_reason(opcode):
    with pytest.raises(UnsupportedModelError, match=rf"\({opcode}\): TFLite Micro has no int8 kernel for {opcode} "
                                                    r"\(float32 only\)"):
        compile_graph(parse_model(_unary_chain([opcode])))


def test_float32_tail_refused_by_name():
    tensors = [T((4,), "int8", 0.1, 0), T((4,), "float32"), T((4,), "float32")]
    model = build(tensors, [Op("DEQUANTIZE", [0], [1]), Op("SQRT", [1], [2])], [0], [2])
    with pytest.raises(UnsupportedModelError, match=r"operator 1 \(SQRT\): float32 SQRT is not supported"):
        compile_graph(parse_model(model))


def test_detection_postprocess_refused_with_a_hint():
    """An SSD detector's end: int8 boxes and scores dequantized into TFLite's post-processing."""
    anchors = np.ones((4, 4), np.float32)
    tensors = [T((1, 4, 4), "int8", 0.1, 0), T((1, 4, 3), "int8", 0.1, 0), T((1, 4, 4), "float32"),
               T((1, 4, 3), "float32"), T((4, 4), "float32", data=anchors),
               T((1, 3, 4), "float32"), T((1, 3), "float32"), T((1, 3), "float32"), T((1,), "float32")]
    ops = [Op("DEQUANTIZE", [0], [2]), Op("DEQUANTIZE", [1], [3]),
           Op("CUSTOM:TFLite_Detection_PostProcess", [2, 3, 4], [5, 6, 7, 8])]
    model = build(tensors, ops, [0, 1], [5, 6, 7, 8])
    with pytest.raises(UnsupportedModelError, match=r"operator 2 \(CUSTOM:TFLite_Detection_PostProcess\): SSD "
                                                    r"post-processing is not supported.*non-maximum suppression"):
        compile_graph(parse_model(model))


def test_inspect_groups_them(tmp_path):
    from typer.testing import CliRunner

    from mcuforge.generator.cli import app

    path = tmp_path / "m.tflite"
    path.write_bytes(_unary_chain(["SQRT", "SQUARE", "SQRT"]))
    r = CliRunner().invoke(app, ["inspect", str(path)])  # in process: the refusal itself, not main()'s exit 2
    assert "SQRT ×2 (operators 0, 2): TFLite Micro has no int8 kernel for SQRT" in r.output
    assert isinstance(r.exception, UnsupportedModelError)


def test_more_outputs_than_the_model_descriptor_counts_is_refused():
    """mcf_model counts inputs and outputs in a byte: 256 outputs must be refused, not wrap to 0."""
    n = 256
    tensors = [T((4,), "int8", 0.1, 0)] + [T((4,), "int8", 0.1, 0) for _ in range(n)]
    ops = [Op("RELU", [0], [k + 1]) for k in range(n)]
    with pytest.raises(UnsupportedModelError, match=r"the model has 256 graph outputs; at most 255 are supported"):
        compile_graph(parse_model(build(tensors, ops, [0], list(range(1, n + 1)))))
    compile_graph(parse_model(build(tensors[:n], ops[:n - 1], [0], list(range(1, n)))))
