"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 and 16x8, int16 cell state) against TFLite Micro over streams
of invokes: outputs, hidden and cell state compared after every invoke, on every kernel path.
TFLite Micro's kernel has no CIFG, peephole, projection or layer norm: those are refused."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from kernel_check import KERNEL_PATHS
from tflite_builder import Activation, Op, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.validate import random_inputs, validate_compiled

INVOKES = 10


def lstm_parts(batches: int, steps: int, depth: int, units: int, dtype: str = "int8", time_major: bool = False,
               cell_power: int = -11, cell_clip: float = 0.0, act: int = Activation.TANH, seed: int = 0,
               extra: dict[int, T] | None = None, drop: tuple[int, ...] = ()) -> tuple[list[T], Op]:
    """The tensors of one LSTM (input first, output last) and the operator reading them."""
    rng = np.random.default_rng(seed)
    wide = dtype == "int16"
    in_scale, in_zp = (0.0005, 0) if wide else (0.03, -5)
    h_scale, h_zp = (1.0 / 32768, 0) if wide else (1.0 / 128, 3)
    bias_type = "int64" if wide else "int32"
    shape = (steps, batches, depth) if time_major else (batches, steps, depth)
    tensors: list[T] = [T(shape, dtype, in_scale, in_zp)]  # 0
    for k in range(8):  # 1-4 input weights (input, forget, cell, output gates), 5-8 recurrent weights
        cols = depth if k < 4 else units
        tensors.append(T((units, cols), "int8", float(rng.uniform(0.002, 0.01)), 0, data=rng_int8(rng, (units, cols))))
    slots = [*range(9), -1, -1, -1]
    for _ in range(4):  # 12-15 gate biases
        tensors.append(T((units,), bias_type, in_scale * 0.005, 0,
                         data=rng.integers(-3000, 3000, units).astype(np.int64 if wide else np.int32)))
        slots.append(len(tensors) - 1)
    slots += [-1, -1]
    tensors.append(T((batches, units), dtype, h_scale, h_zp, variable=True))  # hidden state
    slots.append(len(tensors) - 1)
    tensors.append(T((batches, units), "int16", 2.0 ** cell_power, 0, variable=True))  # cell state
    slots.append(len(tensors) - 1)
    slots += [-1, -1, -1, -1]
    for k, t in (extra or {}).items():
        tensors.append(t)
        slots[k] = len(tensors) - 1
    for k in drop:
        slots[k] = -1
    tensors.append(T((*shape[:2], units), dtype, h_scale, h_zp))
    opts = options("UnidirectionalSequenceLSTMOptions", fusedActivationFunction=act, cellClip=cell_clip,
                   timeMajor=time_major)
    return tensors, Op("UNIDIRECTIONAL_SEQUENCE_LSTM", slots, [len(tensors) - 1], opts)


def lstm_model(*args, **kwargs) -> bytes:
    tensors, op = lstm_parts(*args, **kwargs)
    return build(tensors, [op], [0], op.outputs)


def check_stream(model: bytes, paths=tuple(KERNEL_PATHS)) -> None:
    graph = parse_model(model, name="lstm.tflite")
    cm = compile_graph(graph)
    assert len(cm.state.variables) == 2  # hidden and cell state, outside the arena
    call = next(c for c in cm.calls if c.kernel == "lstm_s8")
    units, depth = graph.tensors[graph.operators[0].inputs[18]].shape[-1], graph.tensors[0].shape[-1]
    assert call.scratch_bytes == 8 * units + 2 * (-(-depth // 4) * 4 + -(-units // 4) * 4)
    inputs = random_inputs(graph, INVOKES, 3)
    for path in paths:
        r = validate_compiled(cm, model, inputs, extra_flags=KERNEL_PATHS[path])
        assert r.bit_exact == INVOKES and r.state_bit_exact == INVOKES, (path, r.to_json())


@pytest.mark.parametrize("batches,steps,depth,units,dtype,time_major,cell_power,cell_clip,act", [
    (1, 3, 5, 4, "int8", False, -11, 0.0, Activation.TANH),
    (2, 4, 7, 6, "int8", True, -11, 0.0, Activation.TANH),
    (3, 2, 4, 5, "int8", False, -15, 1.5, Activation.TANH),
    (1, 1, 16, 8, "int8", True, -9, 0.0, Activation.TANH),
    (1, 3, 5, 4, "int16", False, -11, 0.0, Activation.TANH),
    (2, 3, 6, 3, "int16", True, -12, 2.0, Activation.TANH),
    (2, 2, 9, 7, "int16", False, -10, 0.0, Activation.TANH),
])
def test_lstm_stream(batches, steps, depth, units, dtype, time_major, cell_power, cell_clip, act):
    model = lstm_model(batches, steps, depth, units, dtype, time_major, cell_power, cell_clip, act,
                       seed=depth * units + steps)
    check_stream(model, paths=tuple(KERNEL_PATHS) if units > 5 else ("fast",))


def test_lstm_state_moves():
    """The stream's outputs differ from step to step for the same input: the state is carried."""
    from mcuforge.generator.references import Reference

    model = lstm_model(1, 2, 4, 4, seed=7)
    ref = Reference(model, keep_tensors=True)
    x = random_inputs(parse_model(model, name="lstm.tflite"), 1, 0)[0]
    outs = [ref.run(x, 1)[0].copy() for _ in range(3)]
    assert not np.array_equal(outs[0], outs[1]) or not np.array_equal(outs[1], outs[2])
    check_stream(model, paths=("portable",))


def test_lstm_refuses_other_cell_activations():
    with pytest.raises(UnsupportedModelError, match="only TANH"):
        compile_graph(parse_model(lstm_model(1, 2, 4, 4, act=Activation.RELU), name="lstm.tflite"))


@pytest.mark.parametrize("slot,why", [(9, "peephole"), (16, "projection weights"), (20, "layer-norm")])
def test_lstm_refuses_what_tflm_lacks(slot, why):
    extra = {slot: T((4,) if slot != 16 else (4, 4), "int16" if slot != 16 else "int8", 0.01, 0,
                     data=np.ones(4 if slot != 16 else (4, 4), np.int16 if slot != 16 else np.int8))}
    graph = parse_model(lstm_model(1, 2, 4, 4, extra=extra), name="lstm.tflite")
    with pytest.raises(UnsupportedModelError, match=why):
        compile_graph(graph)


def test_lstm_refuses_cifg_and_non_variable_state():
    with pytest.raises(UnsupportedModelError, match="CIFG"):
        compile_graph(parse_model(lstm_model(1, 2, 4, 4, drop=(1, 5)), name="lstm.tflite"))
    graph = parse_model(lstm_model(1, 2, 4, 4), name="lstm.tflite")
    graph.tensors[graph.operators[0].inputs[19]].is_variable = False
    with pytest.raises(UnsupportedModelError, match="variable tensor"):
        compile_graph(graph)


def recurrent_model() -> bytes:
    """Three stateful operators side by side, each with its own graph input and output: an int8
    LSTM (batch-major), a 16x8 LSTM (time-major, cell clip) and an SVDF with int16 state."""
    from test_kernel_svdf import svdf_parts

    parts = [lstm_parts(2, 3, 6, 5, seed=1), lstm_parts(1, 2, 5, 4, "int16", True, -12, 2.0, seed=2),
             svdf_parts(1, 12, 4, 2, 6, "int16", seed=3)]
    tensors: list[T] = []
    ops, ins, outs = [], [], []
    for ts, op in parts:
        base = len(tensors)
        tensors += ts
        moved = Op(op.opcode, [i + base if i >= 0 else -1 for i in op.inputs], [o + base for o in op.outputs],
                   op.options)
        ops.append(moved)
        ins.append(moved.inputs[0])
        outs += moved.outputs
    return build(tensors, ops, ins, outs)


def test_recurrent_model_on_host():
    check_stream_many(recurrent_model())


def check_stream_many(model: bytes) -> None:
    graph = parse_model(model, name="recurrent.tflite")
    cm = compile_graph(graph)
    assert len(cm.state.variables) == 5
    inputs = random_inputs(graph, INVOKES, 4)
    r = validate_compiled(cm, model, inputs)
    assert r.bit_exact == INVOKES and r.state_bit_exact == INVOKES, r.to_json()


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                         and shutil.which("ninja")), reason="needs arm-none-eabi-gcc, ninja and qemu-system-arm")
def test_recurrent_model_on_device(tmp_path):
    """mcuforge new/build/test on mps2_an386 (QEMU): 12 invokes as one stream, outputs and the five
    state tensors read back from the device after every invoke, all equal to TFLite Micro's."""
    model = tmp_path / "recurrent.tflite"
    model.write_bytes(recurrent_model())
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(model), "--board", "mps2_an386"), ("build", str(project)),
                ("test", str(project), "--random", "12", "--json")):
        proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *cmd], capture_output=True, text=True,
                              timeout=1800)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] == 12 and report["stream"] is True
    assert all(v["state_match"] and v["max_abs_diff"] == 0 for v in report["vectors"])
