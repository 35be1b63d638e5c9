"""`mcuforge bench --vs tflm`: TensorFlow Lite Micro built by its own Makefile, run side by side.

The full run needs a TFLite Micro tree whose third-party downloads are already in place (TFLM's
Makefile downloads them, which fails offline), named by $MCUFORGE_TFLM_DIR; without it that test
is skipped. Nothing of TFLM (code, binaries, build recipe) lives in this repository: the tree is
prepared by hand, outside it, and mcuforge calls `make ... microlite` in it. How such a tree was
prepared here (tensorflow/tflite-micro at 90b983c2b):

1. `D=<tree>/tensorflow/lite/micro/tools/make/downloads` and `mkdir -p $D`.
2. flatbuffers (flatbuffers_download.sh / third_party.inc: tag v25.9.23): the tag's files into
   `$D/flatbuffers`, every `BUILD` / `BUILD.bazel` file deleted, then
   `patch -p1 < tensorflow/lite/micro/tools/make/flatbuffers.patch` inside it.
3. gemmlowp (third_party_downloads.inc: 719139ce755a0f31cbf1c37f7f98adcc7fc9f425) into `$D/gemmlowp`
   and ruy (d37128311b445e758136b8602d1bbd2a755e115d) into `$D/ruy`, `*BUILD` files deleted.
4. kissfft (kissfft_download.sh: tag v130) into `$D/kissfft`, then
   `patch -p1 < <tree>/third_party/kissfft/kissfft.patch` inside it (the signal library's FFT
   kernels compile its sources into libtensorflow-microlite.a).
5. CMSIS (ext_libs/cmsis_download.sh): ARM-software/CMSIS_6 at 5782d6f8057906d360f4b95ec08a2354afe5c9b9
   into `$D/cmsis`, and ARM-software/Cortex_DFP at c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf into
   `$D/cmsis/Cortex_DFP` (cortex_m_generic includes its device headers).
6. CMSIS-NN (ext_libs/cmsis_nn_download.sh: 4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae) into `$D/cmsis_nn`.
7. pigweed (pigweed_download.sh clones it while the Makefile is read): no library source uses it,
   so an empty `$D/pigweed` folder stands in.
8. A python3 with numpy and Pillow on PATH: the Makefile runs generate_cc_arrays.py for its test
   targets even for `make microlite`.

Each commit was exported with `git archive <commit> | tar -x -C <folder>` from a local clone. Then
`MCUFORGE_TFLM_DIR=<tree> mcuforge bench kws_ref_model.tflite --vs tflm`; the libraries are built
once (about 20 minutes each on two cores) into ~/.cache/mcuforge/tflm-build (or
$MCUFORGE_CACHE_DIR), later runs only link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcuforge.generator.boards import load_board
from mcuforge.generator.errors import ToolError, UsageError
from mcuforge.hil import tflm_peer as tp
from mcuforge.hil.bench import ours_memory, peer_layers

GESTURE = Path(__file__).resolve().parents[1] / "examples" / "models" / "gesture_mlp_int8.tflite"
TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm", "make")
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs " + ", ".join(TOOLS))
TFLM_DIR = os.environ.get("MCUFORGE_TFLM_DIR", "")
needs_tree = pytest.mark.skipif(not TFLM_DIR, reason="MCUFORGE_TFLM_DIR is not set: no TensorFlow Lite Micro tree "
                                                     "(with its third-party downloads) to build the peer from")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def _env_without_tree() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MCUFORGE_TFLM_DIR", None)
    return env


# -- no tree, a tree that cannot build --------------------------------------------------------

def test_no_tree_given_is_one_line_and_the_bench_goes_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MCUFORGE_TFLM_DIR", raising=False)
    assert tp.tflm_tree(None) is None
    assert tp.tflm_tree(tmp_path) == tmp_path
    monkeypatch.setenv("MCUFORGE_TFLM_DIR", str(tmp_path))
    assert tp.tflm_tree(None) == tmp_path
    # The CLI says so before anything else (here it then stops at the missing model).
    proc = _cli("bench", str(tmp_path / "missing.tflite"), "--vs", "tflm", env=_env_without_tree())
    lines = [line for line in proc.stderr.splitlines() if "TensorFlow Lite Micro tree" in line]
    assert len(lines) == 1 and "benchmarking mcuforge's firmware alone" in lines[0]
    assert proc.returncode == 2 and "model not found" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_peer_kind(tmp_path: Path) -> None:
    proc = _cli("bench", str(GESTURE), "--vs", "cmsis")
    assert proc.returncode == 2 and "only peer mcuforge builds is tflm" in proc.stderr


def _fake_tree(root: Path, downloads: list[str]) -> Path:
    (root / tp.MAKEFILE).parent.mkdir(parents=True)
    (root / tp.MAKEFILE).write_text("# not really TFLM\n")
    for d in downloads:
        (root / tp.DOWNLOADS / d).mkdir(parents=True, exist_ok=True)
        if d != "pigweed":
            (root / tp.DOWNLOADS / d / "README").write_text("x")
    return root


def test_missing_downloads_are_named_in_one_line(tmp_path: Path) -> None:
    tree = _fake_tree(tmp_path / "tflm", ["flatbuffers", "gemmlowp", "pigweed", "cmsis"])
    (tree / tp.DOWNLOADS / "ruy").mkdir()  # empty: as good as missing
    assert tp.missing_downloads(tree) == ["ruy", "kissfft", "cmsis/Cortex_DFP", "cmsis_nn"]
    assert tp.missing_downloads(tree, [tp.VARIANTS[0]]) == ["ruy", "kissfft", "cmsis/Cortex_DFP"]
    with pytest.raises(tp.TflmTreeError) as err:
        tp.check_tree(tree, check_python=False)
    assert "\n" not in err.value.message and "ruy, kissfft, cmsis/Cortex_DFP, cmsis_nn" in err.value.message
    assert tp.DOWNLOADS in err.value.message
    proc = _cli("bench", str(GESTURE), "--vs", "tflm", "--tflm-dir", str(tree))
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1 and "cmsis_nn" in errors[0]
    assert "Traceback" not in proc.stderr


def test_not_a_tflm_tree(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a TensorFlow Lite Micro tree"):
        tp.check_tree(tmp_path)


def _fake_gxx(folder: Path, prints: str) -> Path:
    """An arm-none-eabi-g++ that answers -print-file-name=libstdc++.a with `prints`."""
    folder.mkdir(parents=True, exist_ok=True)
    gxx = folder / "arm-none-eabi-g++"
    gxx.write_text(f"#!/bin/sh\necho '{prints}'\n")
    gxx.chmod(0o755)
    return gxx


def test_a_compiler_without_the_cxx_library_is_named_with_the_debian_package(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bare = _fake_gxx(tmp_path / "bare", "libstdc++.a")  # GCC's answer when it has no such library
    with pytest.raises(ToolError) as err:
        tp.check_cxx_library(str(bare))
    assert "\n" not in err.value.message and "libstdc++-arm-none-eabi-newlib" in err.value.message
    lib = tmp_path / "lib" / "thumb" / "libstdc++.a"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"!<arch>\n")
    tp.check_cxx_library(str(_fake_gxx(tmp_path / "full", str(lib))))
    # bench checks the compiler with the tree, before TFLM's 20-minute build
    tree = _fake_tree(tmp_path / "tflm", [*tp.BASE_DOWNLOADS, *tp.CMSIS_NN_DOWNLOADS])
    monkeypatch.setenv("PATH", f"{bare.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ToolError, match="install libstdc\\+\\+-arm-none-eabi-newlib"):
        tp.check_tree(tree, check_python=False)


# -- what mcuforge writes ---------------------------------------------------------------------

# The shapes MicroMutableOpResolver's methods take (written here, not copied from TFLM).
HEADER = """
  TfLiteStatus AddCustom(const char* name, const TFLMRegistration* registration) { return kTfLiteOk; }
  TfLiteStatus AddConv2D(
      const TFLMRegistration& registration = Register_CONV_2D()) { return x; }
  TfLiteStatus AddFullyConnected(
      const TFLMRegistration& registration = Register_FULLY_CONNECTED()) { return x; }
  TfLiteStatus AddRelu() { return x; }
  TfLiteStatus AddSoftmax(const TFLMRegistration& registration = Register_SOFTMAX()) { return x; }
  TfLiteStatus AddAveragePool2D(
      const TFLMRegistration& registration = tflite::Register_AVERAGE_POOL_2D()) { return x; }
"""


def test_resolver_from_the_model_op_list() -> None:
    entries = tp.resolver_entries(["CONV_2D", "RELU", "CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"],
                                  HEADER)
    assert [(e.opcode, e.method, e.register) for e in entries] == [
        ("CONV_2D", "AddConv2D", "Register_CONV_2D"), ("RELU", "AddRelu", ""),
        ("AVERAGE_POOL_2D", "AddAveragePool2D", "Register_AVERAGE_POOL_2D"),
        ("FULLY_CONNECTED", "AddFullyConnected", "Register_FULLY_CONNECTED"),
        ("SOFTMAX", "AddSoftmax", "Register_SOFTMAX")]
    assert [e.timed for e in entries] == [True, False, True, True, True]
    src = tp.render_harness(entries, model_name="net", arena_bytes=4096, banner="generated by test")
    assert "tflite::MicroMutableOpResolver<kOpTypes>" in src and "constexpr int kOpTypes = 5;" in src
    assert "resolver.AddConv2D(Maybe<0>(tflite::Register_CONV_2D(), timed))" in src
    assert "resolver.AddRelu() == kTfLiteOk;  // takes no registration: not timed" in src
    assert "resolver.AddSoftmax(Maybe<4>(tflite::Register_SOFTMAX(), timed))" in src
    assert 'kOpNames[kOpTypes] = {"CONV_2D", "RELU", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"}' in src
    assert "uint8_t mcf_tflm_arena[4096]" in src and "MicroProfilerInterface" in src
    with pytest.raises(UsageError, match="no Add method for LSTM_WHATEVER"):
        tp.resolver_entries(["LSTM_WHATEVER"], HEADER)
    with pytest.raises(UsageError, match="custom operator 'Foo'"):
        tp.resolver_entries(["CUSTOM:Foo"], HEADER)


def test_model_and_vectors_as_c_arrays() -> None:
    import numpy as np

    vectors = [[np.arange(6, dtype=np.int8).reshape(2, 3)], [np.full((2, 3), -1, dtype=np.int8)]]
    header, source = tp.render_data(b"\x01\x02\x03", vectors, "generated by test")
    assert "#define MCF_TFLM_VECTORS 2" in header and "#define MCF_TFLM_INPUTS 1" in header
    assert "mcf_tflm_model[3] = {\n    0x01, 0x02, 0x03,\n};" in source
    assert "mcf_tflm_input_0_0[6] = {\n    0x00, 0x01, 0x02, 0x03, 0x04, 0x05," in source
    assert "mcf_tflm_input_1_0[6] = {\n    0xff, 0xff" in source
    assert ("mcf_tflm_inputs[MCF_TFLM_VECTORS][MCF_TFLM_INPUTS] = {{mcf_tflm_input_0_0}, {mcf_tflm_input_1_0}};"
            in source)
    assert "mcf_tflm_input_bytes[MCF_TFLM_INPUTS] = {6};" in source


def test_make_variables_follow_the_board() -> None:
    an386, an385 = load_board("mps2_an386", []), load_board("mps2_an385", [])
    assert tp.target_arch(an386) == ("cortex-m4+fp", ["FPU=fpv4-sp-d16"])
    assert tp.target_arch(an385)[0] == "cortex-m3"
    args = tp.make_variables(Path("/t"), an386, tp.VARIANTS[1], Path("/cache/x"), "/usr/bin/")
    assert "TARGET=cortex_m_generic" in args and "OPTIMIZED_KERNEL_DIR=cmsis_nn" in args
    assert {"CORE_OPTIMIZATION_LEVEL=-O2", "KERNEL_OPTIMIZATION_LEVEL=-O2",
            "THIRD_PARTY_KERNEL_OPTIMIZATION_LEVEL=-O2", "BUILD_TYPE=release", "BASE_GENDIR=/cache/x"} <= set(args)
    assert not any(a.startswith("OPTIMIZED_KERNEL_DIR") for a in
                   tp.make_variables(Path("/t"), an386, tp.VARIANTS[0], Path("/c"), "/usr/bin/"))


# -- what the harness prints ------------------------------------------------------------------

OUTPUT = """\
boot noise
mcuforge-tflm: start model=kws_ref_model
mcuforge-tflm: arena_used=22772
mcuforge-tflm: outputs=2
mcuforge-tflm: vector=0 instructions=43113240 out0=80ff0001 out1=7f
mcuforge-tflm: vector=1 instructions=43114320 out0=00000000 out1=01
mcuforge-tflm: op=0 type=CONV_2D begin=120 instructions=14190800
mcuforge-tflm: op=1 type=SOFTMAX begin=14191000 instructions=2840
mcuforge-tflm: profile_total=14194000
mcuforge-tflm: done=0
"""


def test_parse_harness_output() -> None:
    out = tp.parse_harness_output(OUTPUT)
    assert out.arena_used == 22772 and out.done == 0 and out.error == "" and out.profile_total == 14194000
    assert [(v.index, v.instructions) for v in out.vectors] == [(0, 43113240), (1, 43114320)]
    assert out.vectors[0].outputs == [bytes([0x80, 0xFF, 0x00, 0x01]), b"\x7f"]
    assert [(e.index, e.op_type, e.begin, e.instructions) for e in out.events] == [
        (0, "CONV_2D", 120, 14190800), (1, "SOFTMAX", 14191000, 2840)]
    bad = tp.parse_harness_output("mcuforge-tflm: error=allocate_tensors\r\nmcuforge-tflm: done=1\r\n")
    assert bad.error == "allocate_tensors" and bad.done == 1 and not bad.vectors
    garbled = tp.parse_harness_output("mcuforge-tflm: vector=0 instructions=12x\n")
    assert garbled.error.startswith("unreadable line") and not garbled.vectors


def test_layers_join_events_with_the_graph() -> None:
    from types import SimpleNamespace as NS

    graph = NS(operators=[NS(opcode="CONV_2D"), NS(opcode="RELU"), NS(opcode="CONV_2D"), NS(opcode="RELU")])
    events = [NS(begin=100, instructions=1000), NS(begin=1300, instructions=500)]
    layers = peer_layers(graph, events, {"CONV_2D"})
    assert [(la.op_type, la.instructions, la.how) for la in layers] == [
        ("CONV_2D", 1000, "timed"), ("RELU", 200, "gap"), ("CONV_2D", 500, "timed"), ("RELU", None, "none")]


# -- memory from an ELF -----------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"), reason="needs arm-none-eabi-gcc")
def test_flash_and_ram_split_from_an_elf(tmp_path: Path) -> None:
    from mcuforge.generator.linker import render_linker_script

    board = load_board("mps2_an386", [])
    build = tmp_path / "build"
    build.mkdir()
    (tmp_path / "net_data.c").write_text("const unsigned char net_weights[1000] = {1, 2, 3};\n")
    (tmp_path / "net.c").write_text(
        "extern const unsigned char net_weights[1000];\n"
        "unsigned char net_arena[4096];\n"
        "volatile int counter = 5;\n"
        "static const int table[8] = {3, 1, 4, 1, 5, 9, 2, 6};\n"
        "void Reset_Handler(void) { for (;;) counter += net_weights[counter & 511] + net_arena[counter & 63]"
        " + table[counter & 7]; }\n")
    (build / "firmware.ld").write_text(render_linker_script(board.memory, {}, origin="test"))
    gcc = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O2", "-ffunction-sections", "-fdata-sections"]
    for name in ("net.c", "net_data.c"):
        subprocess.run([*gcc, "-c", str(tmp_path / name), "-o", str(build / f"{name}.obj")], check=True)
    subprocess.run([*gcc, "-nostdlib", "-nostartfiles", "-Wl,--gc-sections", f"-T{build / 'firmware.ld'}",
                    f"-Wl,-Map={build / 'firmware.map'}", "-o", str(build / "firmware.elf"),
                    str(build / "net.c.obj"), str(build / "net_data.c.obj")], check=True)
    ms = ours_memory(tmp_path, "mps2_an386", {"prefix": "net", "sources": ["net.c", "net_data.c"],
                                               "arena_bytes": 4096, "io_bytes": 0})
    from elftools.elf.elffile import ELFFile

    with open(build / "firmware.elf", "rb") as fh:
        text = ELFFile(fh).get_section_by_name(".text")["sh_size"]
    assert ms.flash_weights == 1000
    assert ms.flash_code == text > 0
    assert ms.engine == text + 32  # Reset_Handler's code and its table, not the weights
    assert ms.engine_code == text
    assert ms.flash_other >= 4  # .data's load image (counter) and whatever else is in flash
    assert ms.ram_arena == 4096
    assert ms.ram_other == 4  # counter; the arena buffer and the 8 KiB stack are not "other"
    assert ms.flash_total == ms.flash_code + ms.flash_weights + ms.flash_other


# -- the real thing ---------------------------------------------------------------------------

@pytest.mark.slow
@needs_tools
@needs_tree
def test_bench_vs_tflm_kws_and_ad01(models_dir: Path, tmp_path: Path) -> None:
    from mcuforge.hil.bench import _measure, run_bench

    models = [models_dir / "kws_ref_model.tflite", models_dir / "ad01_int8.tflite"]
    report = run_bench(models, ["mps2_an386"], vectors=2, workdir=tmp_path, vs_tflm=True, tflm_dir=Path(TFLM_DIR))
    assert report.ok and not report.notes and len(report.rows) == 2
    for row in report.rows:
        assert [m.variant for m in row.tflm] == ["tflm_ref", "tflm_cmsis_nn"]
        for m in row.tflm:
            assert m.ok and m.bit_exact == 2 and len(m.instructions) == 2, (row.model, m.variant, m.error)
            assert m.arena_used and m.memory and m.memory.ram_arena == m.arena_used
            assert m.memory.flash_weights == (models_dir / f"{row.model}.tflite").stat().st_size
            assert m.memory.engine > 0 and m.memory.flash_code > m.memory.engine // 2
            timed = [la for la in m.layers if la.how == "timed"]
            assert len(timed) == len(m.layers) > 0
            assert m.profile_total and sum(la.instructions or 0 for la in timed) <= m.profile_total
        ref = row.vs_tflm("tflm_ref")
        assert ref is not None and ref < 1.0  # mcuforge runs fewer instructions than TFLM's reference kernels
        assert row.memory and row.memory.flash_weights > 0 and row.memory.ram_arena == row.arena_bytes
        # Reproducible: the same firmwares run again count the same instructions.
        for m in row.tflm:
            again, _ = tp.run_harness("mps2_an386", Path(m.elf))
            assert [v.instructions for v in again.vectors] == m.instructions
        from mcuforge.generator.frontends import read_model
        from mcuforge.generator.validate import random_inputs
        from mcuforge.hil.bench import BuildMeasure

        model = models_dir / f"{row.model}.tflite"
        inputs = random_inputs(read_model(model), 2, 0)
        import json

        project = tmp_path / f"{row.model}-mps2_an386-optimized"
        manifest = json.loads(next(project.rglob("mcuforge_model.json")).read_text())
        repeat = BuildMeasure()
        _measure(project, model.read_bytes(), inputs, repeat, manifest["sources"], "", lambda _m: None)
        assert repeat.instructions == row.optimized.instructions


def test_tables_and_markdown_render() -> None:
    import importlib.util

    from rich.console import Console

    from mcuforge.hil.bench import BenchReport, BenchRow, BuildMeasure, MemorySplit, PeerMeasure, tflm_tables

    ours = BuildMeasure(instructions=[1000, 1100, 1200], bit_exact=3, unit="instructions")
    row = BenchRow("net", "mps2_an386", 500, 256, 300, 3, ours, BuildMeasure(instructions=[3000], bit_exact=3),
                   memory=MemorySplit(4000, 900, 300, 256, 100, 2500))
    row.tflm = [PeerMeasure("tflm_ref", "a.elf", [4400, 4400, 4400], variant="tflm_ref", label="TFLM ref", vectors=3,
                            bit_exact=3, memory=MemorySplit(30000, 1500, 2000, 600, 500, 25000)),
                PeerMeasure("tflm_cmsis_nn", "b.elf", [2200] * 3, variant="tflm_cmsis_nn", label="TFLM CMSIS-NN",
                            vectors=3, bit_exact=2, memory=MemorySplit(28000, 1500, 2000, 600, 500, 20000))]
    report = BenchReport([row], tflm_tree="/src/tflm")
    assert row.vs_tflm("tflm_ref") == 1100 / 4400 and row.vs_tflm("tflm_cmsis_nn") == 0.5
    assert not row.ok  # one TFLM output was not bit-exact
    data = report.to_json()["rows"][0]
    assert data["ours_vs_tflm_ref"] == 0.25 and data["tflm"][1]["ok"] is False
    assert data["memory"]["flash_total"] == 5200 and data["tflm"][0]["memory"]["ram_total"] == 1100
    console = Console(width=250, record=True)
    for item in tflm_tables(report):
        console.print(item)
    text = console.export_text()
    assert "1,100 (2.20)" in text and "4,400 (8.80)" in text and "0.25" in text and "0.50" in text
    assert "0.10 | 0.12" in text  # engine ours / TFLM ref | CMSIS-NN
    assert "TFLM CMSIS-NN 2/3" in text and "/src/tflm" in text
    spec = importlib.util.spec_from_file_location("run_bench", Path(__file__).resolve().parents[1] / "benchmarks"
                                                  / "run_bench.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    md = mod.tflm_markdown(report)
    assert "| net | mps2_an386 | 500 | 1,100 (2.20) | 4,400 (8.80) | 0.25 | 2,200 (4.40) | 0.50 | 3/3, 3/3, 2/3 |" in md
    assert "| net | mps2_an386 | mcuforge | 4,000 | 900 | 300 | 0 | 2,500 (0) | 256 | 100 |" in md
