"""`mcuforge inspect` on models it cannot compile: a report, grouped refusals, exit status 2, never a
traceback, whatever the tensor types, subgraphs or custom operators."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from stateful_models import ring_model
from tflite_builder import Op, Subgraph, T, build, options

from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.inspect_model import grouped_refusals, inspect_graph
from mcuforge.generator.ir import DTYPE_BYTES, NUMPY_DTYPES, PACKED_BITS

# Every tensor type that is not an int8 activation, as TFLite names them.
ODD_TYPES = ["resource", "variant", "string", "uint32", "uint16", "int64", "complex64", "complex128", "float16",
             "float64", "int4", "bfloat16", "uint64"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=300)


def _typed_model(dtype: str) -> bytes:
    """int8 in → CAST to `dtype` → CAST back → int8 out; plus a constant of that type."""
    const = np.frombuffer(b"\x01\x02\x03\x04" * 8, np.uint8)  # 32 bytes
    count = 32 * 8 // PACKED_BITS[dtype] if dtype in PACKED_BITS else 32 // DTYPE_BYTES.get(dtype, 1)
    data = const.view(NUMPY_DTYPES[dtype]) if dtype in NUMPY_DTYPES else const
    return build([T((1, 4), "int8", 0.1, 0, name="x"), T((1, 4), dtype, name=f"as_{dtype}"),
                  T((1, 4), "int8", 0.1, 0, name="y"), T((count,), dtype, data=data, name=f"const_{dtype}")],
                 [Op("CAST", [0], [1]), Op("CAST", [1], [2])], [0], [2])


@pytest.mark.parametrize("dtype", ODD_TYPES)
def test_every_tensor_type_gives_a_report(dtype: str) -> None:
    graph = parse_model(_typed_model(dtype), name="typed.tflite")
    rep = inspect_graph(graph)
    assert not rep.supported
    assert rep.to_json()["supported"] is False
    assert graph.tensors[1].dtype == dtype
    if dtype != "resource":  # a refusal that names the operator and the tensor
        assert any(f"tensor 'as_{dtype}' of operator 0 (CAST)" in p for p in rep.problems), rep.problems
    json.dumps(rep.to_json())  # serialisable whatever the types


def test_inspect_cli_exits_2_with_the_report(tmp_path: Path) -> None:
    path = tmp_path / "typed.tflite"
    path.write_bytes(_typed_model("complex128"))
    proc = run_cli("inspect", str(path), "--json")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    rep = json.loads(proc.stdout)
    assert rep["supported"] is False and rep["ops"][0]["op"] == "CAST"
    proc = run_cli("inspect", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "complex128 tensors are not supported (tensor 'as_complex128' of operator 0 (CAST))" in proc.stderr


def _chain(op: str, last: str) -> bytes:
    x = T((1, 4), "int8", 0.1, 0)
    ops = [Op(op, [i], [i + 1]) if i % 3 else Op("RELU", [i], [i + 1]) for i in range(12)]
    ops[11] = Op(last, [11], [12])
    return build([x] * 13, ops, [0], [12])


def test_unsupported_operators_are_grouped() -> None:
    rep = inspect_graph(parse_model(_chain("SEGMENT_SUM", "UNIQUE"), name="g.tflite"))
    assert "unsupported operators: SEGMENT_SUM ×7 (operators 1, 2, 4, 5, 7, 8, …), UNIQUE (operator 11)" in rep.problems
    assert grouped_refusals(rep) == ["SEGMENT_SUM ×7 (operators 1, 2, 4, 5, 7, 8, …): no kernel for this operator",
                                     "UNIQUE (operator 11): no kernel for this operator"]


def test_refusals_with_a_reason_are_grouped_too() -> None:
    rep = inspect_graph(parse_model(_chain("SIN", "COS"), name="g.tflite"))
    why = "TFLite Micro has no int8 kernel for {} (float32 only), so there is nothing to be bit-exact with"
    assert grouped_refusals(rep) == [f"SIN ×7 (operators 1, 2, 4, 5, 7, 8, …): {why.format('SIN')}",
                                     f"COS (operator 11): {why.format('COS')}"]


def test_ethos_u_model_is_told_to_use_the_model_from_before_vela(tmp_path: Path) -> None:
    model = build([T((1, 4), "int8", 0.1, 0), T((64,), "uint8", data=np.zeros(64, np.uint8)),
                   T((1, 4), "int8", 0.1, 0)], [Op("CUSTOM:ethos-u", [1, 0], [2])], [0], [2])
    rep = inspect_graph(parse_model(model, name="vela.tflite"))
    assert not rep.supported
    text = " ".join(rep.problems)
    assert "Ethos-U" in text and "CUSTOM:ethos-u" in text and "from before Vela" in text
    assert "unsupported operators" not in text
    path = tmp_path / "vela.tflite"
    path.write_bytes(model)
    proc = run_cli("compile", str(path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "from before Vela" in proc.stderr and "Traceback" not in proc.stderr


def test_control_flow_subgraphs_are_named() -> None:
    body = Subgraph([T((1, 4), "int8", 0.1, 0)], [], [0], [0])
    model = build([T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 0.1, 0)],
                  [Op("WHILE", [0], [1], options("WhileOptions", condSubgraphIndex=1, bodySubgraphIndex=2))],
                  [0], [1], subgraphs=[body, body])
    rep = inspect_graph(parse_model(model, name="loop.tflite"))
    assert rep.subgraphs == 3 and not rep.supported
    assert any("WHILE (operator 0) runs subgraphs 1 and 2" in p for p in rep.problems)


def test_stateful_model_report() -> None:
    rep = inspect_graph(parse_model(ring_model(), name="ring.tflite"))
    assert rep.supported, rep.problems
    assert rep.state_bytes == 32 and rep.subgraphs == 2
    assert {r.op for r in rep.ops} >= {"CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"}


@pytest.mark.parametrize("ops", [[Op("RESHAPE", [1], [1])], [Op("RESHAPE", [2], [1]), Op("RESHAPE", [1], [2])]],
                         ids=["itself", "two"])
def test_reshapes_in_a_loop_are_refused_not_followed_forever(ops: list[Op]) -> None:
    """A malformed graph whose views lead back to themselves (found by test_fuzz_reader, which then
    never returned): inspect reports it and the compiler refuses it, in bounded time."""
    import signal

    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.errors import UnsupportedModelError

    graph = parse_model(build([T((2,), "int8", 0.1, 0)] * 3, ops, [0], [1]), name="loop.tflite")

    def too_long(signum: int, frame: object) -> None:
        raise TimeoutError("the alias walk did not end")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(30)
    try:
        rep = inspect_graph(graph)
        with pytest.raises(UnsupportedModelError, match="view of itself"):
            compile_graph(graph)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not rep.supported and "view of itself" in rep.problems[0]


@pytest.mark.parametrize("opcode", ["FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "ADD", "MUL",
                                    "SOFTMAX", "MEAN", "PAD", "CONCATENATION", "BATCH_MATMUL", "SVDF"])
def test_operators_missing_their_inputs_are_refused(opcode: str) -> None:
    """An operator whose required inputs are omitted (-1) is refused with one message, whatever its
    lowering assumes (test_fuzz_reader found FULLY_CONNECTED ending in an AssertionError)."""
    from mcuforge.generator.compiler import compile_graph
    from mcuforge.generator.errors import McuforgeError

    graph = parse_model(build([T((1, 4), "int8", 0.1, 0)] * 2, [Op(opcode, [0, -1, -1], [1])], [0], [1]),
                        name="missing.tflite")
    rep = inspect_graph(graph)
    with pytest.raises(McuforgeError):
        compile_graph(graph)
    assert not rep.supported
