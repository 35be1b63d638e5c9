"""Fuzz the model reader: any bytes give a Graph or a ModelError, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcuforge.generator.errors import McuforgeError, ModelError
from mcuforge.generator.tflite_import import parse_model

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
