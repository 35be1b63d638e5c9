"""SELECT (version 1 of `where`): TFLite Micro has no kernel for it (its interpreter cannot allocate
a model that holds one), so mcuforge refuses it with that reason; SELECT_V2, its replacement,
runs (tests/test_kernel_compare.py)."""

import subprocess
import sys

import numpy as np
import pytest
from tflite_builder import Op, T, build

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import ModelError, UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.references import Reference


def where_model(opcode: str) -> bytes:
    """select(a > b, a, b) on int8 (the bool condition inside the graph)."""
    tensors = [T((2, 5), "int8", 0.05, 3), T((2, 5), "int8", 0.05, 3), T((2, 5), "bool"), T((2, 5), "int8", 0.05, 3)]
    return build(tensors, [Op("GREATER", [0, 1], [2]), Op(opcode, [2, 0, 1], [3])], [0, 1], [3])


def test_tflite_micro_has_no_select_kernel_but_runs_select_v2():
    a = np.arange(-5, 5, dtype=np.int8).reshape(2, 5)
    b = np.zeros((2, 5), np.int8)
    out = Reference(where_model("SELECT_V2")).run([a, b], 1)[0]
    assert np.array_equal(out, np.maximum(a, b))
    # if TFLite Micro ever registers SELECT, this fails: then give it a kernel (the select_s8 one)
    with pytest.raises(ModelError, match="cannot load"):
        Reference(where_model("SELECT")).run([a, b], 1)


def test_select_refused_with_the_reason_and_the_replacement():
    with pytest.raises(UnsupportedModelError, match=r"operator 1 \(SELECT\): TFLite Micro has no SELECT kernel "
                                                    r"\(only SELECT_V2\).*SELECT_V2"):
        compile_graph(parse_model(where_model("SELECT"), name="where.tflite"))


def test_inspect_names_the_reason_in_one_line(tmp_path):
    path = tmp_path / "where.tflite"
    path.write_bytes(where_model("SELECT"))
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "inspect", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "TFLite Micro has no SELECT kernel" in proc.stdout + proc.stderr
