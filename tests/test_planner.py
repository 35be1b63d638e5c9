"""The memory planner: plans are valid for any buffers, and tight on the reference models."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcuforge.generator.analysis import Buffer, live_bytes_lower_bound
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.planner import ALIGNMENT, plan_memory
from mcuforge.generator.tflite_import import read_model

# Live-tensor peaks and TFLite Micro's arena head for the reference models (GUIDE §2).
REFERENCE = {"kws_ref_model": (16000, 16000), "vww_96_int8": (55296, 73728),
             "pretrainedResnet_quant": (49152, 49152), "ad01_int8": (768, 768)}


def assert_valid(buffers: list[Buffer], offsets: dict[int, int], arena: int) -> None:
    for b in buffers:
        assert offsets[b.id] % ALIGNMENT == 0
        assert offsets[b.id] + b.size <= arena
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.overlaps(b):
                a0, b0 = offsets[a.id], offsets[b.id]
                assert a0 + a.size <= b0 or b0 + b.size <= a0, (a, b, a0, b0)


@st.composite
def buffer_sets(draw: st.DrawFn) -> tuple[list[Buffer], int]:
    steps = draw(st.integers(1, 12))
    n = draw(st.integers(1, 14))
    out = []
    for i in range(n):
        first = draw(st.integers(-1, steps))
        last = draw(st.integers(first, steps))
        out.append(Buffer(id=i, size=draw(st.integers(1, 5000)), first=first, last=last, is_io=draw(st.booleans())))
    return out, steps


@settings(max_examples=300, deadline=None)
@given(buffer_sets(), st.booleans())
def test_any_plan_is_valid(data: tuple[list[Buffer], int], separate_io: bool) -> None:
    buffers, steps = data
    plan = plan_memory(buffers, steps, separate_io=separate_io)
    arena_bufs = [b for b in buffers if b.id in plan.offsets]
    assert_valid(arena_bufs, plan.offsets, plan.arena_bytes)
    if separate_io:
        io = [b for b in buffers if b.is_io]
        spans = sorted((plan.io_offsets[b.id], plan.io_offsets[b.id] + b.size) for b in io)
        assert all(e <= s for (_, e), (s, _) in itertools.pairwise(spans))  # IO buffers never share bytes
    assert plan.arena_bytes + plan.io_bytes >= plan.lower_bound


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_models_are_tight(models_dir: Path, name: str) -> None:
    lower, tflm_head = REFERENCE[name]
    cm = compile_graph(read_model(models_dir / f"{name}.tflite"))
    tensors_only = live_bytes_lower_bound([b for b in cm.plan.buffers if b.scratch_of is None],
                                          len(cm.graph.operators))
    assert tensors_only == lower
    assert cm.plan.arena_bytes <= 1.05 * lower
    assert cm.plan.arena_bytes <= tflm_head  # kernel scratch is used only where it costs no RAM
    assert_valid(cm.plan.buffers, cm.plan.offsets, cm.plan.arena_bytes)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_fast_scratch_may_grow_the_arena_within_the_bound(models_dir: Path, name: str) -> None:
    lower, _ = REFERENCE[name]
    cm = compile_graph(read_model(models_dir / f"{name}.tflite"), scratch_may_grow_arena=True)
    assert cm.plan.arena_bytes <= 1.05 * lower
    assert_valid(cm.plan.buffers, cm.plan.offsets, cm.plan.arena_bytes)
