"""The user's choice for the convolutions onnxruntime runs in float (ops/conv_fsum.py).

`onnx_numerics: onnxruntime` (the default) reproduces MLAS's float sums bit for bit;
`onnx_numerics: integer` lowers them with the ordinary integer kernels (full speed), within a
quantization step of onnxruntime. Where MLAS splits a sum into K blocks by each thread's share of
the pixels, the generated C depends on onnxruntime's thread count: it comes from `ort_threads`
(pinned), else MCUFORGE_ORT_THREADS, else the machine's cores, is printed and written into the
generated C, and the same setting gives the same C on any machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_builder import run_ort
from test_onnx_float_conv import conv_model, quant_scale

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.onnx import parse_model
from mcuforge.generator.hostbuild import HostModel
from mcuforge.generator.ops import conv_fsum

# 3x3 on 18 channels (162 taps) over 16x16 pixels, 16 output channels: MLAS's segmented im2col
# splits the pixels over up to 11 threads; one thread sums blocks of 128 and 34 taps, four threads
# (64 pixels each) the 162 taps in one block
SPLIT = (18, (16, 16), 16, 1, 3, 1, 1)


def _sources(model: bytes, monkeypatch: pytest.MonkeyPatch, cores: int, threads: int | None) -> dict[str, bytes]:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    cm = compile_graph(parse_model(model, name="split.onnx"), ort_threads=threads)
    assert cm.float_convs is not None
    return generate(cm, "model").files


def test_same_setting_same_c_whatever_the_cores(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MCUFORGE_ORT_THREADS", raising=False)
    model, _ = conv_model(*SPLIT, seed=7)
    assert _sources(model, monkeypatch, 1, 4) == _sources(model, monkeypatch, 8, 4)
    # unpinned, the machine's cores decide (the test can fail): and the C says for how many
    one, eight = _sources(model, monkeypatch, 1, None), _sources(model, monkeypatch, 8, None)
    assert one["model.c"] != eight["model.c"]
    assert f"{conv_fsum.THREADS_NOTE} 8" in eight["model.c"].decode()
    # the environment variable pins it too
    monkeypatch.setenv("MCUFORGE_ORT_THREADS", "4")
    assert _sources(model, monkeypatch, 1, None) == _sources(model, monkeypatch, 8, 4)


def test_pinned_threads_bit_exact_with_onnxruntime_on_as_many(monkeypatch: pytest.MonkeyPatch):
    """Compiled for 4 threads on this machine, equal to onnxruntime run with 4 intra-op threads; the
    reference runner follows the same setting."""
    import onnxruntime as ort

    from mcuforge.generator.references.onnxrt import OnnxReference

    monkeypatch.delenv("MCUFORGE_ORT_THREADS", raising=False)
    model, x = conv_model(*SPLIT, seed=7)
    cm = compile_graph(parse_model(model, name="split.onnx"), ort_threads=4)
    assert cm.float_convs is not None and (cm.float_convs.threads, cm.float_convs.thread_dependent) == (4, 1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 4
    want = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    with conv_fsum.onnx_settings(threads=4):
        assert OnnxReference(model).session.get_session_options().intra_op_num_threads == 4
    with HostModel(generate(cm, "model"), extra_flags=("-O0",)) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want[0].shape), want[0])


def test_integer_numerics_within_one_step():
    """The integer kernels on a depthwise convolution whose sums fall on ties: no float convolution
    left, at most one step from onnxruntime, and not bit-exact (the default setting is:
    test_onnx_float_conv)."""
    model, x = conv_model(16, (12, 12), 16, 16, 3, 2, 1, seed=15)
    graph = parse_model(model, name="depthwise.onnx")
    cm = compile_graph(graph, onnx_numerics="integer")
    assert not [c for c in cm.calls if c.kernel == "conv2d_s8_fsum"]
    assert cm.float_convs is not None and cm.float_convs.numerics == "integer"
    assert "integer kernels" in cm.float_convs.describe()
    want = run_ort(model, {"x": x})[0]
    with HostModel(generate(cm, "model"), extra_flags=("-O0",)) as host:
        got = host.run([[x]])[0]
    steps = np.abs(got[0].reshape(want.shape).astype(np.float64) - want) / quant_scale(model, "so")
    assert steps.max() <= 1.001  # dequantized float32 values: one step up to rounding
    assert np.count_nonzero(steps > 0.5) > 0
    # the default is unchanged by the call above
    assert [c for c in compile_graph(graph).calls if c.kernel == "conv2d_s8_fsum"]


def test_cli_and_project_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from mcuforge.generator.cli import app
    from mcuforge.generator.scaffold import load_config, new_project

    monkeypatch.delenv("MCUFORGE_ORT_THREADS", raising=False)
    model, _ = conv_model(*SPLIT, seed=7)
    path = tmp_path / "split.onnx"
    path.write_bytes(model)
    r = CliRunner().invoke(app, ["compile", str(path), "-o", str(tmp_path / "lib"), "--ort-threads", "3"])
    assert r.exit_code == 0, r.output
    assert "for 3 onnxruntime thread(s) (pinned" in " ".join(r.output.split())
    r = CliRunner().invoke(app, ["inspect", str(path), "--onnx-numerics", "integer"])
    assert "lowered to integer kernels" in " ".join(r.output.split())
    r = CliRunner().invoke(app, ["compile", str(path), "-o", str(tmp_path / "lib2"), "--onnx-numerics", "fast"])
    assert r.exit_code != 0
    # a new project records the count it was generated for, so `update` elsewhere keeps it
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    new_project(tmp_path / "proj", path, "mps2_an386", framework="cmake")
    cfg = load_config(tmp_path / "proj")
    assert (cfg.onnx_numerics, cfg.ort_threads) == ("onnxruntime", 3)
    assert "ort_threads: 3" in (tmp_path / "proj" / "mcuforge.yaml").read_text()


def test_soft_float_warning_where_the_build_has_no_fpu(tmp_path: Path):
    """`new` and `update` say what bit-exact float convolutions cost on a core without an FPU, and how
    to choose the integer kernels; not where the build has one, nor once the user chose them."""
    from typer.testing import CliRunner

    from mcuforge.generator.boards import load_board
    from mcuforge.generator.cli import app
    from mcuforge.generator.scaffold import float_in_hardware

    assert [float_in_hardware(load_board(b), f) for b, f in
            [("mps2_an385", "cmake"), ("mps2_an386", "cmake"), ("mps2_an386", "zephyr"),
             ("qemu_riscv32", "cmake"), ("disco_l475_iot1", "platformio"), ("rpi_pico", "platformio")]] \
        == [False, True, True, False, True, False]
    model, _ = conv_model(8, (6, 6), 8, 1, 3, 1, 1, seed=3)
    path = tmp_path / "fc.onnx"
    path.write_bytes(model)

    def new(board: str) -> str:
        r = CliRunner().invoke(app, ["new", str(tmp_path / board), "-m", str(path), "-b", board,
                                     "--framework", "cmake"])
        assert r.exit_code == 0, r.output
        return " ".join(r.output.split())

    assert "software floating point (cortex-m3, cmake build: no FPU)" in new("mps2_an385")
    assert "onnx_numerics: integer" in new("qemu_riscv32")
    assert "software floating point" not in new("mps2_an386")
    conf = tmp_path / "mps2_an385" / "mcuforge.yaml"
    conf.write_text(conf.read_text() + "onnx_numerics: integer\n")
    r = CliRunner().invoke(app, ["update", str(tmp_path / "mps2_an385")])
    assert r.exit_code == 0 and "software floating point" not in r.output, r.output


def test_grouped_conv_each_group_on_one_thread(monkeypatch: pytest.MonkeyPatch):
    """A grouped Conv (2 groups, 256 taps per sum over 64 pixels) becomes one CONV_2D per group;
    onnxruntime gives each group's product to one thread whole (MlasConvExpandThenGemmSegmentedThreaded),
    so the sums do not depend on the thread count: at 2 threads, equal to onnxruntime's."""
    import onnxruntime as ort

    monkeypatch.delenv("MCUFORGE_ORT_THREADS", raising=False)
    model, x = conv_model(256, (8, 8), 64, 2, 3, 1, 1, seed=100)
    cm = compile_graph(parse_model(model, name="grouped.onnx"), ort_threads=2)
    calls = [c for c in cm.calls if c.kernel == "conv2d_s8_fsum"]
    assert len(calls) == 2 and cm.float_convs is not None and cm.float_convs.thread_dependent == 0
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    want = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with HostModel(generate(cm, "model"), extra_flags=("-O1",)) as host:
        got = host.run([[x]])[0]
    assert np.array_equal(got[0].reshape(want.shape), want)
