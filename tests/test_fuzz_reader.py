"""Fuzz the model reader: any bytes give a Graph or a ModelError, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcuforge.generator.errors import McuforgeError, ModelError
from mcuforge.generator.frontends.tflite import parse_model

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def seed_model(models_dir: Path) -> bytes:
    return (models_dir / "kws_ref_model.tflite").read_bytes()


def _parse(data: bytes) -> None:
    try:
        parse_model(data, name="fuzz.tflite")
    except ModelError as exc:
        assert exc.message.startswith("fuzz.tflite: ")
        assert "\n" not in exc.message


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _parse(data)


@FUZZ
@given(st.binary(min_size=4, max_size=512))
def test_random_bytes_with_identifier(data: bytes) -> None:
    _parse(data[:4] + b"TFL3" + data[4:])


@FUZZ
@given(data=st.data())
def test_mutated_model(seed_model: bytes, data: st.DataObject) -> None:
    buf = bytearray(seed_model)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.one_of(st.none(), st.integers(8, len(buf))))
    _parse(bytes(buf[:cut] if cut else buf))


@FUZZ
@given(data=st.data())
def test_mutated_header_then_compile(seed_model: bytes, data: st.DataObject) -> None:
    """Mutations in the first KiB hit the tables (shapes, indices, options) rather than weights;
    whatever the reader accepts, the compiler must reject with a McuforgeError or compile."""
    from mcuforge.generator.compiler import compile_graph

    buf = bytearray(seed_model)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, min(1023, len(buf) - 1)))
        buf[pos] = data.draw(st.integers(0, 255))
    try:
        graph = parse_model(bytes(buf), name="fuzz.tflite")
        compile_graph(graph)
    except McuforgeError:
        pass


_ALL_TYPES = ["int8", "uint8", "int16", "int32", "int64", "float32", "bool", "resource", "variant", "string", "uint32",
              "uint16", "uint64", "complex64", "complex128", "float16", "float64", "int4", "bfloat16"]
_OPCODES = ["CONV_2D", "ADD", "RESHAPE", "CONCATENATION", "READ_VARIABLE", "ASSIGN_VARIABLE", "VAR_HANDLE",
            "CALL_ONCE", "WHILE", "IF", "CUSTOM:ethos-u", "CUSTOM:mystery", "FULLY_CONNECTED", "SOFTMAX", "CAST"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_inspect_any_graph(data: st.DataObject) -> None:
    """Random graphs of every tensor type, operator mixes and extra subgraphs: `inspect` gives a
    report (or the reader a ModelError), never another exception."""
    from tflite_builder import Op, Subgraph, T, build

    from mcuforge.generator.inspect_model import inspect_graph

    n = data.draw(st.integers(2, 6))
    tensors = [T(tuple(data.draw(st.lists(st.integers(1, 4), max_size=4))), data.draw(st.sampled_from(_ALL_TYPES)),
                 data.draw(st.sampled_from([None, 0.1])), 0) for _ in range(n)]
    ops = []
    for _ in range(data.draw(st.integers(0, 5))):
        ins = data.draw(st.lists(st.integers(-1, n - 1), max_size=3))
        outs = data.draw(st.lists(st.integers(0, n - 1), max_size=2))
        ops.append(Op(data.draw(st.sampled_from(_OPCODES)), ins, outs))
    extra = [Subgraph([T((2,), "int8", 0.1, 0)], [], [0], [0])] * data.draw(st.integers(0, 2))
    model = build(tensors, ops, [0], [n - 1], subgraphs=extra)
    try:
        graph = parse_model(model, name="fuzz.tflite")
    except ModelError:
        return
    rep = inspect_graph(graph)
    assert rep.to_json()["model"] == "fuzz.tflite"
    from mcuforge.generator.compiler import compile_graph

    try:  # what inspect reports, compile refuses with one clear error
        compile_graph(graph)
    except McuforgeError:
        assert not rep.supported or rep.arena_bytes is not None
