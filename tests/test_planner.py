"""The memory planner: plans are valid for any buffers, and tight on the reference models."""

from __future__ import annotations

import itertools
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcuforge.generator import planner
from mcuforge.generator.analysis import Buffer, live_bytes_lower_bound
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends import read_model
from mcuforge.generator.planner import ALIGNMENT, plan_memory, plan_violations

# Live-tensor peaks and TFLite Micro's arena head for the reference models (GUIDE §2).
REFERENCE = {"kws_ref_model": (16000, 16000), "vww_96_int8": (55296, 73728),
             "pretrainedResnet_quant": (49152, 49152), "ad01_int8": (768, 768)}
# The arena mcuforge plans, with outputs overlapping their dying inputs (generator/overlap.py).
# ad01 is fully connected layers only: each output unit needs the whole input, no overlap.
ARENA = {"kws_ref_model": 10112, "vww_96_int8": 46080, "pretrainedResnet_quant": 34000, "ad01_int8": 768}


def assert_valid(buffers: list[Buffer], offsets: dict[int, int], arena: int,
                 allow: dict[tuple[int, int], int] | None = None) -> None:
    for b in buffers:
        assert offsets[b.id] % ALIGNMENT == 0
        assert offsets[b.id] + b.size <= arena
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.overlaps(b):
                a0, b0 = offsets[a.id], offsets[b.id]
                if allow and (a.id, b.id) in allow and b0 <= a0 - allow[(a.id, b.id)]:
                    continue  # an output at least its proven shift below its dying input
                if allow and (b.id, a.id) in allow and a0 <= b0 - allow[(b.id, a.id)]:
                    continue
                assert a0 + a.size <= b0 or b0 + b.size <= a0, (a, b, a0, b0)
    assert plan_violations(buffers, offsets, arena, allow) == []


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


@st.composite
def chains_with_overlaps(draw: st.DrawFn) -> tuple[list[Buffer], int, dict[tuple[int, int], int]]:
    """Buffers like an operator graph's: each step's output, some inputs dying there and allowed
    to be overlapped by it from a random shift on."""
    steps = draw(st.integers(1, 10))
    buffers = [Buffer(id=0, size=draw(st.integers(1, 4000)), first=-1, last=0)]
    allow: dict[tuple[int, int], int] = {}
    for step in range(steps):
        out = Buffer(id=len(buffers), size=draw(st.integers(1, 4000)), first=step, last=step)
        dying = [b for b in buffers if b.last == step and b.first < step]
        for b in dying:
            if draw(st.booleans()):
                allow[(b.id, out.id)] = draw(st.integers(0, 5000))
        for b in draw(st.lists(st.sampled_from(buffers), max_size=2)):  # some buffers live longer
            b.last = max(b.last, draw(st.integers(step, steps)))
        buffers.append(out)
    buffers[-1].last = steps
    return buffers, steps, allow


@settings(max_examples=300, deadline=None)
@given(chains_with_overlaps())
def test_plans_with_overlaps_are_valid(data: tuple[list[Buffer], int, dict[tuple[int, int], int]]) -> None:
    buffers, steps, allow = data
    allow = {k: v for k, v in allow.items() if buffers[k[0]].last == buffers[k[1]].first}
    plan = plan_memory(buffers, steps, allow=allow)
    assert_valid(buffers, plan.offsets, plan.arena_bytes, allow)
    without = plan_memory(buffers, steps)
    assert plan.arena_bytes <= without.arena_bytes  # allowing overlaps never costs bytes


@settings(max_examples=80, deadline=None)
@given(chains_with_overlaps(), st.sampled_from([None, -16, 0]))
def test_overlap_bound_is_a_floor_and_skipping_under_it_keeps_the_plan(
        data: tuple[list[Buffer], int, dict[tuple[int, int], int]], shift: int | None) -> None:
    """best_offsets skips the descending search's tops under `overlap_lower_bound`: no plan fits
    there, and the plan is the one the full search finds."""
    buffers, steps, allow = data
    allow = {k: v for k, v in allow.items() if buffers[k[0]].last == buffers[k[1]].first}
    if shift is not None:
        allow = {k: shift for k in allow}  # shifts at and below zero too
    bound = planner.overlap_lower_bound(buffers, allow)
    offsets, arena, _ = planner.best_offsets(buffers, steps, allow)
    assert bound <= arena
    chain = sorted(buffers, key=lambda b: (b.first, -b.size, b.id))
    for top in range(max(ALIGNMENT, bound - 4 * ALIGNMENT) // ALIGNMENT * ALIGNMENT, bound, ALIGNMENT):
        assert planner._descending(chain, allow, top) is None
    with mock.patch.object(planner, "overlap_lower_bound", lambda *_args: 0):
        assert planner.best_offsets(buffers, steps, allow) == (offsets, arena, _)


def test_plan_violations_sees_a_wrong_overlap() -> None:
    a = Buffer(id=0, size=100, first=-1, last=0)
    b = Buffer(id=1, size=100, first=0, last=1)
    assert plan_violations([a, b], {0: 32, 1: 0}, 144, {(0, 1): 32}) == []
    assert plan_violations([a, b], {0: 32, 1: 16}, 144, {(0, 1): 32})  # 16 B below, 32 needed
    assert plan_violations([a, b], {0: 32, 1: 0}, 144, {})  # no proof: no overlap


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_models_are_tight(models_dir: Path, name: str) -> None:
    lower, tflm_head = REFERENCE[name]
    cm = compile_graph(read_model(models_dir / f"{name}.tflite"))
    tensors_only = live_bytes_lower_bound([b for b in cm.plan.buffers if b.scratch_of is None],
                                          len(cm.graph.operators))
    assert tensors_only == lower == cm.plan.lower_bound
    assert cm.plan.arena_bytes == ARENA[name]
    assert cm.plan.arena_bytes <= lower and cm.plan.arena_bytes <= tflm_head
    if name != "ad01_int8":
        assert cm.plan.arena_bytes < lower and cm.plan.arena_bytes < tflm_head  # below the bound: overlaps
    assert_valid(cm.plan.buffers, cm.plan.offsets, cm.plan.arena_bytes, cm.plan.allow)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_overlaps_keep_every_fast_path(models_dir: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every convolution that has its im2col scratch (or columns in place) without overlaps has it
    with them: the smaller arena costs no instructions."""
    from mcuforge.generator import compiler

    def fast(cm: compiler.CompiledModel) -> set[int]:
        return {c.op.index for c in cm.calls if c.scratch_bytes or c.params.get("inplace")}

    graph = read_model(models_dir / f"{name}.tflite")
    with_overlaps = compile_graph(graph)
    monkeypatch.setattr(compiler, "overlap_allowances", lambda *_args: {})
    without = compile_graph(graph)
    assert without.plan.arena_bytes == REFERENCE[name][0]
    assert fast(without) <= fast(with_overlaps)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_fast_scratch_may_grow_the_arena_within_the_bound(models_dir: Path, name: str) -> None:
    lower, _ = REFERENCE[name]
    cm = compile_graph(read_model(models_dir / f"{name}.tflite"), scratch_may_grow_arena=True)
    assert cm.plan.arena_bytes <= 1.05 * lower
    assert_valid(cm.plan.buffers, cm.plan.offsets, cm.plan.arena_bytes, cm.plan.allow)
