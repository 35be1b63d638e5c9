"""The kernels' Cortex-M paths, checked bit for bit against TFLite Micro on emulated boards.

Host builds cannot run the DSP paths' real instructions (x86 has no SMLAD; the host tests run them
written in C, -DMCF_EMULATE_DSP) nor see what arm-none-eabi-gcc makes of the portable fast paths.
So every single-operator configuration of the host kernel tests (convolutions, depthwise,
fully connected, pooling, elementwise: odd channel counts, padding, strides, dilation, per-channel
and per-tensor weights, zero points at the extremes, batches) goes into ONE model as parallel
branches - graph input k -> operator k -> graph output k - next to a small multi-operator chain
and a fan of some 50 operators that share two graph inputs (tests/device_fan_models.py: the
protocol counts inputs and outputs in a byte, so not every operator can have its own).
Each board then needs two firmwares (all convolutions with their im2col scratch, and the
convolutions alone without it): mps2_an385 (Cortex-M3: no DSP extension, the portable fast
paths), mps2_an386 (Cortex-M4) and mps2_an500 (Cortex-M7) (the DSP paths, with the inline
assembly of optimized builds). Random vectors go through the serial protocol and every output is
compared with TFLite Micro's. The reference models run on the M3 as well (tests/test_hil_cli.py
runs them on the M4 and M7), with their outputs overlapping dying inputs (the arena below the
live-tensor bound), and kws_ref_model on all three.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from test_kernel_conv import CASES as CONV_CASES
from test_kernel_conv import conv_model
from test_kernel_depthwise_conv import CASES as DW_CASES
from test_kernel_depthwise_conv import dw_model
from test_kernel_elementwise import binary
from test_kernel_pooling import CASES as POOL_CASES
from test_kernel_pooling import _pool_model
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from mcuforge.generator.references import Reference
from mcuforge.generator.validate import random_inputs

TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                       reason="needs " + ", ".join(TOOLS) + " (apt-get install gcc-arm-none-eabi "
                              "libnewlib-arm-none-eabi qemu-system-arm cmake ninja-build)"),
]

BOARDS = ["mps2_an385", "mps2_an386", "mps2_an500"]
VECTORS = 3
MAX_INPUTS = 255  # the parallel model has ~250 graph inputs; the firmware's protocol default is 8
MAX_OUTPUTS = 255  # mcf_model counts its outputs in a byte: more would be cut short on the device


# ---- one model holding many independent operators ------------------------------------------------

def merge_parallel(models: dict[str, bytes]) -> bytes:
    """Single-subgraph models side by side in one: their tensors (renamed `case/name`), buffers and
    operators, graph inputs and outputs concatenated in order. The branches share nothing."""
    out = schema.ModelT()
    out.version = 3
    out.description = b"mcuforge on-device kernel checks"
    out.buffers = [schema.BufferT()]
    out.operatorCodes = []
    codes: dict[tuple[int, int], int] = {}
    sg = schema.SubGraphT()
    sg.name = b"main"
    sg.tensors, sg.operators = [], []
    inputs: list[int] = []
    outputs: list[int] = []
    for case, data in models.items():
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        src = model.subgraphs[0]
        base = len(sg.tensors)
        for t in src.tensors:
            t = copy.deepcopy(t)
            buf = model.buffers[t.buffer] if t.buffer else None
            if buf is not None and buf.data is not None and len(buf.data):
                out.buffers.append(copy.deepcopy(buf))
                t.buffer = len(out.buffers) - 1
            else:
                t.buffer = 0
            t.name = f"{case}/{(t.name or b'').decode()}".encode()
            sg.tensors.append(t)
        for op in src.operators:
            op = copy.deepcopy(op)
            code = model.operatorCodes[op.opcodeIndex]
            key = (code.builtinCode, code.version)
            if key not in codes:
                codes[key] = len(out.operatorCodes)
                out.operatorCodes.append(copy.deepcopy(code))
            op.opcodeIndex = codes[key]
            op.inputs = np.array([i + base if i >= 0 else -1 for i in op.inputs], dtype=np.int32)
            op.outputs = np.array([i + base for i in op.outputs], dtype=np.int32)
            sg.operators.append(op)
        inputs += [int(i) + base for i in src.inputs]
        outputs += [int(i) + base for i in src.outputs]
    sg.inputs = np.array(inputs, dtype=np.int32)
    sg.outputs = np.array(outputs, dtype=np.int32)
    out.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(out.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def fc_model(batches: int, depth: int, units: int, per_channel: bool, act: int, in_zp: int, out_zp: int,
             seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    w_scale = list(rng.uniform(0.001, 0.02, units)) if per_channel else 0.01
    tensors = [T((batches, depth), "int8", 0.05, in_zp),
               T((units, depth), "int8", w_scale, [0] * units if per_channel else 0,
                 data=rng_int8(rng, (units, depth))),
               T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
                 data=rng.integers(-5000, 5000, units).astype(np.int32)),
               T((batches, units), "int8", 0.02 * np.sqrt(depth), out_zp)]
    return build(tensors, [Op("FULLY_CONNECTED", [0, 1, 2], [3], options("FullyConnectedOptions",
                                                                        fusedActivationFunction=act))],
                 [0], [3])


FC_CASES = {
    # name: batches, depth, units, per_channel, activation, input zero point, output zero point
    "fc_few_clamped_rows": (2, 18, 3, False, Activation.RELU6, -128, 0),  # 3 units alone, a partial group
    "fc_odd_depth_units": (1, 33, 7, True, Activation.RELU6, 17, -3),
    # one unit, one row: the whole row in one assembly block (passes of four groups, groups left, last 3 inputs)
    "fc_one_unit": (1, 47, 1, True, Activation.NONE, -128, 127),
    "fc_deep": (1, 640, 12, False, Activation.RELU, -3, -128),
    "fc_wide_batch3": (3, 24, 130, True, Activation.NONE, 127, 0),
}  # depth 1: test_kernel_fully_connected.device_models


def chain_model(seed: int = 11) -> bytes:
    """conv 3x3 (relu) -> depthwise 3x3 -> ADD with the conv's output -> conv 1x1 stride 2 ->
    global average pool -> fully connected: padding, residuals and the fast paths in one chain."""
    rng = np.random.default_rng(seed)
    w1 = rng_int8(rng, (8, 3, 3, 6))
    dw = rng_int8(rng, (1, 3, 3, 8))
    w3 = rng_int8(rng, (12, 1, 1, 8))
    fc = rng_int8(rng, (10, 12))
    s1 = list(rng.uniform(0.003, 0.02, 8))
    tensors = [
        T((1, 9, 9, 6), "int8", 0.05, 3),                                              # 0 input
        T((8, 3, 3, 6), "int8", s1, [0] * 8, data=w1),                                  # 1
        T((8,), "int32", [0.05 * s for s in s1], 0, data=rng.integers(-900, 900, 8).astype(np.int32)),
        T((1, 9, 9, 8), "int8", 0.08, -5),                                              # 3 conv out
        T((1, 3, 3, 8), "int8", 0.01, 0, data=dw),                                      # 4
        T((8,), "int32", 0.0008, 0, data=rng.integers(-500, 500, 8).astype(np.int32)),  # 5
        T((1, 9, 9, 8), "int8", 0.07, 2),                                               # 6 dw out
        T((1, 9, 9, 8), "int8", 0.1, 0),                                                # 7 add out
        T((12, 1, 1, 8), "int8", 0.01, 0, data=w3),                                     # 8
        T((12,), "int32", 0.001, 0, data=rng.integers(-300, 300, 12).astype(np.int32)),  # 9
        T((1, 5, 5, 12), "int8", 0.09, -10),                                            # 10
        T((1, 1, 1, 12), "int8", 0.09, -10),                                            # 11 pooled
        T((10, 12), "int8", 0.02, 0, data=fc),                                          # 12
        T((10,), "int32", 0.0018, 0, data=rng.integers(-400, 400, 10).astype(np.int32)),  # 13
        T((1, 10), "int8", 0.2, 4),                                                     # 14
    ]
    ops = [
        Op("CONV_2D", [0, 1, 2], [3], options("Conv2DOptions", padding=Padding.SAME, strideH=1, strideW=1,
                                              fusedActivationFunction=Activation.RELU)),
        Op("DEPTHWISE_CONV_2D", [3, 4, 5], [6], options("DepthwiseConv2DOptions", padding=Padding.SAME,
                                                        strideH=1, strideW=1, depthMultiplier=1)),
        Op("ADD", [3, 6], [7], options("AddOptions")),
        Op("CONV_2D", [7, 8, 9], [10], options("Conv2DOptions", padding=Padding.SAME, strideH=2, strideW=2)),
        Op("AVERAGE_POOL_2D", [10], [11], options("Pool2DOptions", padding=Padding.VALID, strideH=1, strideW=1,
                                                  filterHeight=5, filterWidth=5)),
        Op("FULLY_CONNECTED", [11, 12, 13], [14], options("FullyConnectedOptions")),
    ]
    return build(tensors, ops, [0], [14])


def spread_model() -> bytes:
    models: dict[str, bytes] = {}
    for name, kwargs in CONV_CASES.items():
        models[f"conv_{name}"] = conv_model(**kwargs, seed=len(str(kwargs)))
    w = np.full((4, 3, 3, 8), -128, dtype=np.int8)
    models["conv_extreme_weights"] = conv_model(ic=8, oc=4, weights=w, in_zp=127, out_zp=127)
    for name, kwargs in DW_CASES.items():
        models[f"dw_{name}"] = dw_model(**kwargs, seed=len(str(kwargs)))
    w = np.full((1, 3, 3, 8), 127, dtype=np.int8)
    models["dw_extreme_weights"] = dw_model(ic=8, weights=w, in_zp=-128, out_zp=-128)
    for name, args in FC_CASES.items():
        models[name] = fc_model(*args, seed=len(name))
    import test_kernel_fully_connected  # the depth-1 entry points side by side, one graph input

    models.update(test_kernel_fully_connected.device_models())
    for k, (in_shape, filt, stride, padding, act, scale, zp) in enumerate(POOL_CASES):
        for opcode in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            models[f"{opcode.lower()}_{k}"] = _pool_model(opcode, in_shape, filt, stride, padding, act, scale, zp)
    for opcode in ("ADD", "SUB", "MUL"):
        models[f"{opcode.lower()}_same"] = binary(opcode, (1, 7, 5, 3), (1, 7, 5, 3))
        models[f"{opcode.lower()}_bcast"] = binary(opcode, (1, 8, 8, 16), (1, 1, 1, 16), q1=(0.02, -128),
                                                    q2=(0.07, 127), qo=(0.05, 100), act=Activation.RELU)
        models[f"{opcode.lower()}_wide"] = binary(opcode, (1, 9, 9, 16), (1, 9, 9, 16), q1=(0.1, 1),
                                                   q2=(0.1, 1), qo=(0.15, -3), act=Activation.RELU6)
    from test_kernel_layout import device_models  # here: that module imports merge_parallel from this one

    models.update(device_models())
    import test_kernel_arg_minmax
    import test_kernel_batch_matmul
    import test_kernel_conv_first
    import test_kernel_reduce
    import test_kernel_resize
    import test_kernel_transpose_conv  # imported here: these import merge_parallel from this module

    for module in (test_kernel_reduce, test_kernel_arg_minmax, test_kernel_resize, test_kernel_transpose_conv,
                   test_kernel_batch_matmul, test_kernel_conv_first):
        models.update(module.device_models())
    import test_int16_ops
    import test_kernel_binary
    import test_kernel_log_softmax
    import test_kernel_pointwise
    import test_kernel_quantize

    for module in (test_kernel_pointwise, test_kernel_binary, test_kernel_log_softmax, test_kernel_quantize,
                   test_int16_ops):
        models.update(module.device_models())
    import test_int16_conv
    import test_softmax_int16_output

    for module in (test_int16_conv, test_softmax_int16_output):
        models.update(module.device_models())
    import test_batch_space
    import test_elu
    import test_mirror_pad
    import test_reverse
    import test_transpose_fold

    for module in (test_batch_space, test_elu, test_mirror_pad, test_reverse, test_transpose_fold):
        models.update(module.device_models())
    import device_fan_models  # operators sharing two graph inputs (the protocol takes at most 255)

    models.update(device_fan_models.device_models())
    models["chain"] = chain_model()
    return merge_parallel(models)


# ---- build, run, compare -------------------------------------------------------------------------

def build_firmware(tmp_path: Path, model_path: Path, board: str, *, scratch: str = "default") -> Path:
    """A cmake project for `board`, built. `scratch`: "all" gives every convolution its im2col
    scratch (as `mcuforge compile --fast-scratch`), "none" none (they run their scratch-free direct
    path or reference loop), "default" those whose scratch fits a hole of the arena."""
    import functools

    from mcuforge.generator import compiler, scaffold
    from mcuforge.generator.build import build_project
    from mcuforge.generator.tools import run_tool

    project = tmp_path / f"{model_path.stem}_{board}"
    saved = scaffold.compile_graph, compiler.fit_in_gaps, compiler.overlap_allowances
    try:
        if scratch == "all":
            scaffold.compile_graph = functools.partial(compiler.compile_graph, scratch_may_grow_arena=True)
        elif scratch == "none":  # no holes, and no overlaps (which would plan the scratch with the tensors)
            compiler.fit_in_gaps = lambda *_args: None
            compiler.overlap_allowances = lambda *_args: {}
        scaffold.new_project(project, model_path, board, framework="cmake")
    finally:
        scaffold.compile_graph, compiler.fit_in_gaps, compiler.overlap_allowances = saved
    # Configure first, with the protocol sized for this many graph inputs; build_project then builds.
    env = dict(os.environ, CFLAGS=f"{os.environ.get('CFLAGS', '')} -DMCF_PROTO_MAX_INPUTS={MAX_INPUTS}")
    run_tool(["cmake", "-G", "Ninja", "-S", str(project), "-B", str(project / "build")], env=env, timeout=600)
    build_project(project)
    return project


def run_vectors(project: Path, model_bytes: bytes, count: int, seed: int) -> list[str]:
    """Names of the outputs that differ from TFLite Micro's, for `count` random vectors."""
    from mcuforge.hil.session import open_session

    bad: list[str] = []
    ref = Reference(model_bytes)
    with open_session(project, infer_timeout=300.0) as s:
        for inputs in random_inputs(s.graph, count, seed):
            got = s.device.infer(inputs).outputs
            want = ref.run(inputs, len(s.graph.outputs))
            for t_index, g, w in zip(s.graph.outputs, got, want, strict=True):
                if not np.array_equal(g.reshape(-1), w.reshape(-1)):
                    bad.append(s.graph.tensors[t_index].name)
    return bad


@pytest.fixture(scope="module")
def spread_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spread") / "kernel_spread.tflite"
    path.write_bytes(spread_model())
    return path


@pytest.fixture(scope="module")
def conv_spread_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The convolutions alone, built without any scratch: each on its scratch-free path (direct for
    whole groups of four input channels, else the reference loop)."""
    models = {f"conv_{name}": conv_model(**kwargs, seed=len(str(kwargs))) for name, kwargs in CONV_CASES.items()}
    import test_kernel_depthwise_line  # depthwise line layers in a row (no scratch either)

    models.update(test_kernel_depthwise_line.device_models())
    for name, kwargs in CONV_CASES.items():  # the same geometries with whole groups of four channels
        ic = kwargs.get("ic", 3)
        if kwargs.get("groups", 1) == 1 and kwargs.get("dilation", (1, 1))[1] == 1 and ic % 4:
            models[f"conv4_{name}"] = conv_model(**{**kwargs, "ic": ic + 4 - ic % 4}, seed=len(name))
    import test_kernel_conv_narrow  # contiguous windows (no scratch either): one of each path

    models.update(test_kernel_conv_narrow.device_models())
    path = tmp_path_factory.mktemp("spread") / "conv_spread.tflite"
    path.write_bytes(merge_parallel(models))
    return path


def test_spread_model_is_wide(spread_path: Path) -> None:
    from mcuforge.generator.frontends import read_model

    graph = read_model(spread_path)

    def branch(name: str) -> str:
        return name.split("/", 1)[0]

    # one graph input per branch output (two for a binary operator), but the fan of operators that
    # share graph inputs (tests/device_fan_models.py)
    parallel_ops = [op for op in graph.operators if branch(graph.tensors[op.outputs[0]].name) != "fan"]
    binary_ops = sum(op.opcode in ("ADD", "SUB", "MUL") for op in parallel_ops)
    ins = [t for t in graph.inputs if branch(graph.tensors[t].name) != "fan"]
    outs = [t for t in graph.outputs if branch(graph.tensors[t].name) != "fan"]
    assert 120 <= len(graph.inputs) <= MAX_INPUTS
    assert len(graph.outputs) <= MAX_OUTPUTS
    assert len(ins) == len(outs) + binary_ops - 1  # the chain's ADD reads no graph input
    assert len(graph.inputs) - len(ins) == 2 and len(graph.outputs) - len(outs) >= 10
    assert {op.opcode for op in graph.operators} >= {
        "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "SUB", "MUL",
        "EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "SELECT_V2", "L2_NORMALIZATION",
        "GATHER_ND", "ADD_N", "CONCATENATION", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "PAD", "PADV2", "CAST",
        "RELU6", "HARD_SWISH", "LOGISTIC", "TANH", "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "EMBEDDING_LOOKUP",
        "DYNAMIC_UPDATE_SLICE", "CUMSUM"}


@pytest.mark.parametrize("board", BOARDS)
def test_every_kernel_configuration_on_board(tmp_path: Path, spread_path: Path, board: str) -> None:
    project = build_firmware(tmp_path, spread_path, board, scratch="all")
    bad = run_vectors(project, spread_path.read_bytes(), VECTORS, seed=BOARDS.index(board))
    assert not bad, f"{len(bad)} outputs differ from TFLite Micro on {board}: {sorted(set(bad))}"


@pytest.mark.parametrize("board", BOARDS)
def test_convolutions_without_scratch_on_board(tmp_path: Path, conv_spread_path: Path, board: str) -> None:
    project = build_firmware(tmp_path, conv_spread_path, board, scratch="none")
    model_c = (project / "mcuforge_model" / "model" / "conv_spread.c").read_text()
    assert model_c.count(".scratch = (int16_t") == 0, model_c.count(".scratch = (int16_t")
    assert model_c.count(".fast_layout = 1") >= 40  # the direct path
    bad = run_vectors(project, conv_spread_path.read_bytes(), VECTORS, seed=7)
    assert not bad, f"{len(bad)} outputs differ from TFLite Micro on {board}: {sorted(set(bad))}"


@pytest.mark.parametrize("model,board", [(m, "mps2_an385") for m in ("kws_ref_model", "vww_96_int8",
                                                                       "pretrainedResnet_quant", "ad01_int8")]
                         + [("kws_ref_model", "mps2_an386"), ("kws_ref_model", "mps2_an500")])
def test_reference_model_on_board(tmp_path: Path, models_dir: Path, model: str, board: str) -> None:
    path = models_dir / f"{model}.tflite"
    project = build_firmware(tmp_path, path, board)
    generated = project / "mcuforge_model" / "model"
    prefix = json.loads((generated / "mcuforge_model.json").read_text())["prefix"]
    source = (generated / f"{prefix}.c").read_text()
    if model != "ad01_int8":  # outputs over their dying inputs: the arena below the live-tensor bound
        assert "overlaps its input" in source
    bad = run_vectors(project, path.read_bytes(), 2, seed=1)
    assert not bad, f"outputs differ from TFLite Micro on {board}: {bad}"
