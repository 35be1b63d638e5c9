"""Shared check for kernel tests: compile a model, run random inputs on host C and on TFLM."""

from __future__ import annotations

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.tflite_import import parse_model
from mcuforge.generator.validate import ValidationResult, random_inputs, validate_compiled


def check_bit_exact(model: bytes, count: int = 4, seed: int = 0, separate_io: bool = False) -> ValidationResult:
    graph = parse_model(model, name="test.tflite")
    cm = compile_graph(graph, separate_io=separate_io)
    result = validate_compiled(cm, model, random_inputs(graph, count, seed))
    assert result.bit_exact == result.inputs, result.to_json()
    assert result.max_abs_diff == 0
    return result
