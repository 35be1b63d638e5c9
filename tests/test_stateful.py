"""Stateful (streaming) models: resource variables in a static state buffer, CALL_ONCE evaluated at
compile time, reset_state(), and streams of invokes compared step by step with TFLite Micro."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from stateful_models import ring_model
from tflite_builder import Op, Subgraph, T, build, options

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.hostbuild import WARNING_FLAGS, HostModel
from mcuforge.generator.references import Reference
from mcuforge.generator.validate import random_inputs, validate_compiled

STEPS = 12  # the acceptance asks for at least 10 invokes in one stream


@pytest.mark.parametrize("flags", [(), ("-DMCF_PORTABLE_KERNELS",), ("-DMCF_EMULATE_DSP",)],
                         ids=["fast", "portable", "dsp-emulated"])
@pytest.mark.parametrize("initialiser,accumulator,late_read", [(True, True, False), (False, True, False),
                                                               (True, False, False), (True, True, True)])
def test_stream_bit_exact(flags: tuple[str, ...], initialiser: bool, accumulator: bool, late_read: bool) -> None:
    model = ring_model(initialiser=initialiser, accumulator=accumulator, late_read=late_read)
    graph = parse_model(model)
    cm = compile_graph(graph)
    assert cm.state.bytes > 0
    copies = [c for c in cm.calls if c.op.opcode == "READ_VARIABLE" and c.function == "mcf_var_copy"]
    assert len(copies) == (1 if late_read else 0)  # other reads are views of the state buffer
    in_place = [c for c in cm.calls if c.op.opcode == "ASSIGN_VARIABLE" and not c.function]
    assert len(in_place) == 1 + late_read  # the ring's new window; the sum when its old value was copied
    res = validate_compiled(cm, model, random_inputs(graph, STEPS, seed=1), extra_flags=flags)
    assert res.state_bytes == cm.state.bytes
    assert res.bit_exact == STEPS and res.state_bit_exact == STEPS, res.to_json()


def test_state_changes_the_outputs() -> None:
    """The comparison can fail: one interpreter per step (no state carried) disagrees with the stream."""
    model = ring_model()
    graph = parse_model(model)
    batches = random_inputs(graph, STEPS, seed=2)
    with HostModel(generate(compile_graph(graph), "ring")) as host:
        got = host.run(batches)
    ref = Reference(model)
    stream = [ref.run(x, 2) for x in batches]
    fresh = []
    for x in batches:
        ref.restart()
        fresh.append(ref.run(x, 2))
    assert all(np.array_equal(g, w) for step_g, step_w in zip(got, stream, strict=True)
               for g, w in zip(step_g, step_w, strict=True))
    differs = [k for k in range(STEPS)
               if not all(np.array_equal(a, b) for a, b in zip(got[k], fresh[k], strict=True))]
    assert differs and differs[0] >= 1 and len(differs) >= STEPS // 2, differs


def test_state_plan_and_initial_values() -> None:
    model = ring_model(rows=3, width=8)
    cm = compile_graph(parse_model(model))
    ring, acc = cm.state.variables
    assert (ring.name, ring.offset, ring.nbytes) == ("ring/states", 0, 24)
    assert (acc.name, acc.offset, acc.nbytes) == ("acc", 24, 8)
    init = parse_model(model).subgraphs[0].tensors[1].data
    assert init is not None and np.array_equal(ring.initial, init.reshape(-1).view(np.uint8))
    assert acc.uniform == 5  # never initialised: TFLite Micro fills it with its zero point
    lib = generate(cm, "ring")
    src = lib.files["ring.c"].decode()
    header = lib.files["ring.h"].decode()
    assert "uint8_t ring_state[RING_STATE_BYTES] MCF_ALIGNED16 MCF_STATE_ATTR;" in src
    assert "mcf_var_copy(&ring_var0, ring_state + 0, ring_var0_initial);" in src
    assert "mcf_var_fill(&ring_var1, ring_state + 24, 5u);" in src
    assert "#define RING_STATE_BYTES 32u" in header and "void ring_reset_state(void);" in header
    assert lib.manifest["state_bytes"] == 32
    assert [v["name"] for v in lib.manifest["variables"]] == ["ring/states", "acc"]
    # The state is not in the arena, and the reads are views of it, not copies.
    assert sorted(cm.state.views) == [2, 6, 13]  # both reads, and the ring's new value (written in place)
    assert "the value was written straight into variable 'ring/states'" in src
    assert "ring_model.state" not in src and "mcf_var_copy(&ring_op2" not in src
    assert "output is variable 'ring/states' itself, in the state buffer" in src
    assert cm.plan.arena_bytes <= 80


_RESET_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "ring.h"

static int8_t outs[2][%(steps)d][64];

int main(void)
{
    int pass, k;
    ring_init();
    for (pass = 0; pass < 2; ++pass) {
        for (k = 0; k < %(steps)d; ++k) {
            memset(RING_INPUT0, (k * 37 + 11) & 0xff, RING_INPUT0_BYTES);
            ring_invoke();
            memcpy(outs[pass][k], RING_OUTPUT0, RING_OUTPUT0_BYTES);
        }
        ring_model.reset_state();
    }
    for (k = 0; k < %(steps)d; ++k) {
        if (memcmp(outs[0][k], outs[1][k], RING_OUTPUT0_BYTES) != 0) { printf("differ %%d\n", k); return 1; }
    }
    printf("state %%u\n", (unsigned)ring_model.state_bytes);
    return memcmp(outs[0][0], outs[0][%(steps)d - 1], RING_OUTPUT0_BYTES) == 0 ? 3 : 0;
}
"""


def test_reset_state_starts_a_new_stream(tmp_path: Path) -> None:
    lib = generate(compile_graph(parse_model(ring_model())), "ring")
    for rel, data in lib.files.items():
        (tmp_path / rel).write_bytes(data)
    (tmp_path / "main.c").write_text(_RESET_MAIN % {"steps": STEPS})
    cc = os.environ.get("CC", "cc")
    sources = [str(tmp_path / s) for s in lib.manifest["sources"]] + [str(tmp_path / "main.c")]
    subprocess.run([cc, *WARNING_FLAGS, "-O2", "-I", str(tmp_path), *sources, "-o", str(tmp_path / "t")],
                   check=True, capture_output=True, text=True)
    run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
    assert run.stdout.strip() == "state 32"


def test_stateless_model_has_an_empty_reset_state() -> None:
    model = build([T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 0.1, 0)],
                  [Op("RELU", [0], [1])], [0], [1])
    lib = generate(compile_graph(parse_model(model)), "plain")
    src = lib.files["plain.c"].decode()
    assert "void plain_reset_state(void)" in src and "plain_state" not in src
    assert "PLAIN_STATE_BYTES 0u" in lib.files["plain.h"].decode()
    assert "variables.c" not in lib.files


# ---- refusals --------------------------------------------------------------------------------------

def _refusal(model: bytes) -> str:
    with pytest.raises(UnsupportedModelError) as info:
        compile_graph(parse_model(model, name="m.tflite"))
    return info.value.message


def test_control_flow_is_refused_by_name() -> None:
    tensors = [T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 0.1, 0)]
    body = Subgraph([T((1, 4), "int8", 0.1, 0)], [], [0], [0])
    model = build(tensors, [Op("WHILE", [0], [1], options("WhileOptions", condSubgraphIndex=1,
                                                             bodySubgraphIndex=2))],
                  [0], [1], subgraphs=[body, body])
    msg = _refusal(model)
    assert "WHILE (operator 0) runs subgraphs 1 and 2: control flow is not supported" in msg
    model = build(tensors, [Op("IF", [0], [1], options("IfOptions", thenSubgraphIndex=1, elseSubgraphIndex=2))],
                  [0], [1], subgraphs=[body, body])
    assert "IF (operator 0) runs subgraphs 1 and 2" in _refusal(model)


def test_subgraph_that_is_no_initialiser_is_refused() -> None:
    model = build([T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 0.1, 0)], [Op("RELU", [0], [1])], [0], [1],
                  extra_subgraphs=1)
    assert "subgraph 1 is not run by CALL_ONCE" in _refusal(model)


def test_initialiser_that_computes_is_refused() -> None:
    main = parse_model(ring_model())
    assert main.subgraphs  # the good model has an initialiser subgraph
    bad = build(
        [T((1, 1, 1, 8), "int8", 0.05, -2), T((), "resource"), T((1, 1, 1, 8), "int8", 0.05, -2),
         T((1, 1, 1, 8), "int8", 0.05, -2)],
        [Op("CALL_ONCE", [], [], options("CallOnceOptions", initSubgraphIndex=1)),
         Op("VAR_HANDLE", [], [1], options("VarHandleOptions", sharedName=b"v")),
         Op("READ_VARIABLE", [1], [2]), Op("ADD", [2, 0], [3], options("AddOptions")),
         Op("ASSIGN_VARIABLE", [1, 3], [])],
        [0], [3],
        subgraphs=[Subgraph([T((), "resource"), T((1, 1, 1, 8), "int8", 0.05, -2),
                             T((1, 1, 1, 8), "int8", 0.05, -2, data=np.ones((1, 1, 1, 8), np.int8))],
                            [Op("VAR_HANDLE", [], [0], options("VarHandleOptions", sharedName=b"v")),
                             Op("ADD", [2, 2], [1], options("AddOptions")), Op("ASSIGN_VARIABLE", [0, 1], [])])])
    msg = _refusal(bad)
    assert "subgraph 1 (CALL_ONCE initialiser) operator 1 (ADD): initialisers may only assign constants" in msg


def test_variable_read_but_never_assigned_is_refused() -> None:
    model = build([T((1, 4), "int8", 0.1, 0), T((), "resource"), T((1, 4), "int8", 0.1, 0),
                   T((1, 4), "int8", 0.1, 0)],
                  [Op("VAR_HANDLE", [], [1], options("VarHandleOptions", sharedName=b"lonely")),
                   Op("READ_VARIABLE", [1], [2]), Op("ADD", [2, 0], [3], options("AddOptions"))], [0], [3])
    assert "variable 'lonely' is read but never assigned" in _refusal(model)


# ---- real streaming models (microWakeWord), from $MCUFORGE_MODEL_ZOO --------------------------------

def _zoo_streaming() -> list[Path]:
    zoo = os.environ.get("MCUFORGE_MODEL_ZOO")
    if not zoo:
        return []
    return sorted(Path(zoo).glob("microwakeword/*.tflite"))


@pytest.mark.skipif(not _zoo_streaming(), reason="set MCUFORGE_MODEL_ZOO to a folder with microwakeword/*.tflite")
@pytest.mark.parametrize("path", _zoo_streaming()[:2], ids=lambda p: p.stem)
def test_microwakeword_state(path: Path) -> None:
    """The state plan of a real streaming model; bit-exact over a stream once all its operators compile."""
    from mcuforge.generator.inspect_model import inspect_graph
    from mcuforge.generator.ops.variables import plan_state

    graph = parse_model(path.read_bytes(), name=path.name)
    state = plan_state(graph)
    assert state.bytes > 1000 and len(state.variables) >= 5
    assert all(v.uniform is not None for v in state.variables)  # microWakeWord starts from zeros
    rep = inspect_graph(graph)
    if not rep.supported:
        pytest.skip(f"{path.name}: {'; '.join(rep.problems)}")
    assert rep.state_bytes == state.bytes
    cm = compile_graph(graph)
    res = validate_compiled(cm, path.read_bytes(), random_inputs(graph, STEPS, seed=0))
    assert res.bit_exact == STEPS and res.state_bit_exact == STEPS  # every variable, every step


def test_state_comparison_can_fail() -> None:
    """validate compares the host's state buffer with the values TFLite Micro assigned: one wrong
    byte in any variable fails the step."""
    from mcuforge.generator.ops.variables import last_assignments
    from mcuforge.generator.validate import state_matches

    model = ring_model(late_read=True)
    graph = parse_model(model)
    cm = compile_graph(graph)
    batches = random_inputs(graph, 3, seed=4)
    with HostModel(generate(cm, "ring")) as host:
        host.run(batches)
        states = host.states
    ref = Reference(model, keep_tensors=True)
    assigned = last_assignments(graph, cm.state)
    assert sorted(assigned) == [0, 1]
    for x, state in zip(batches, states, strict=True):
        ref.run(x, 2)
        assert state_matches(cm.state, state, ref, assigned)
        for var in cm.state.variables:
            bad = state.copy()
            bad[var.offset + var.nbytes - 1] ^= 1
            assert not state_matches(cm.state, bad, ref, assigned)


def _guarded_model(read_between: bool, twice: bool) -> bytes:
    """n = x + x is assigned to variable v; with `read_between`, v's old value is read after n is
    computed and before the assignment (so n must not be written into v early); with `twice`, n is
    also assigned to a second variable w (so n cannot live in either variable)."""
    q = (0.05, -2)
    tensors = [T((1, 8), "int8", *q, name="x"), T((), "resource", name="v"), T((1, 8), "int8", *q, name="n"),
               T((1, 8), "int8", *q, name="old"), T((1, 8), "int8", 0.1, 1, name="out"), T((), "resource", name="w")]
    ops = [Op("VAR_HANDLE", [], [1], options("VarHandleOptions", sharedName=b"v")),
           Op("VAR_HANDLE", [], [5], options("VarHandleOptions", sharedName=b"w")),
           Op("ADD", [0, 0], [2], options("AddOptions"))]
    if read_between:
        ops += [Op("READ_VARIABLE", [1], [3]), Op("ASSIGN_VARIABLE", [1, 2], [])]
    else:
        ops += [Op("ASSIGN_VARIABLE", [1, 2], []), Op("READ_VARIABLE", [1], [3])]
    if twice:
        ops.append(Op("ASSIGN_VARIABLE", [5, 2], []))
    ops.append(Op("ADD", [3, 2], [4], options("AddOptions")))
    return build(tensors, ops, [0], [4])


@pytest.mark.parametrize("read_between,twice,in_place", [(False, False, True), (True, False, False),
                                                         (False, True, False)])
def test_assignment_in_place_only_when_safe(read_between: bool, twice: bool, in_place: bool) -> None:
    model = _guarded_model(read_between, twice)
    graph = parse_model(model)
    cm = compile_graph(graph)
    assert (2 in cm.state.views) == in_place
    res = validate_compiled(cm, model, random_inputs(graph, 6, seed=3))
    assert res.bit_exact == 6 and res.state_bit_exact == 6, res.to_json()
