"""`mcuforge bench`: optimized vs portable firmwares on an emulated board, a peer firmware measured
in the same emulator, the model's flash read from the link map."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcuforge.generator.errors import UsageError
from mcuforge.hil.bench import model_flash_bytes, parse_peers

TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "cmake", "ninja")
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="needs " + ", ".join(TOOLS))
GESTURE = Path(__file__).resolve().parents[1] / "examples" / "models" / "gesture_mlp_int8.tflite"

MAP = """\
Archive member included to satisfy reference by file (symbol)

Discarded input sections
 .text          0x00000000       0x40 mcuforge_model/libmcf_model.a(net.c.obj)

Linker script and memory map

 .text          0x00000000       0x10 startup.c.obj
 .text.net_invoke
                0x00000100       0x2c mcuforge_model/libmcf_model.a(net.c.obj)
 .text.mcf_fully_connected_s8
                0x0000012c      0x1f0 mcuforge_model/libmcf_model.a(fully_connected_s8.c.obj)
 .text.mcf_host_serve
                0x0000031c      0x400 mcuforge_model/libmcf_model.a(mcf_host.c.obj)
 .rodata.net_tensor1
                0x00000800      0x300 mcuforge_model/libmcf_model.a(net_data.c.obj)
 .rodata        0x00000b00       0x20 mcuforge_model/libmcf_model.a(fully_connected_s8.c.obj)
 .bss.net_arena
                0x20000000      0x100 mcuforge_model/libmcf_model.a(net.c.obj)
"""


def test_model_flash_counts_only_the_model_library_sources(tmp_path: Path) -> None:
    path = tmp_path / "firmware.map"
    path.write_text(MAP)
    # invoke code, kernel code and rodata, weights; not the discarded section, the host glue or .bss
    assert model_flash_bytes(path, ["net.c", "net_data.c", "fully_connected_s8.c"]) == 0x2C + 0x1F0 + 0x300 + 0x20


def test_peer_options(tmp_path: Path) -> None:
    elf = tmp_path / "tflm.elf"
    elf.write_bytes(b"\x7fELF")
    assert parse_peers([f"kws_ref_model={elf}", f"ad01_int8@mps2_an500={elf}"]) == {
        "kws_ref_model": elf, "ad01_int8@mps2_an500": elf}
    with pytest.raises(UsageError, match="is not NAME=PATH"):
        parse_peers(["kws_ref_model"])
    with pytest.raises(UsageError, match="no file at"):
        parse_peers([f"kws_ref_model={tmp_path / 'missing.elf'}"])


@pytest.mark.slow
@needs_tools
def test_bench_against_portable_and_a_peer(tmp_path: Path) -> None:
    from mcuforge.generator.build import build_project
    from mcuforge.generator.scaffold import new_project
    from mcuforge.hil.bench import run_bench

    # A stand-in peer: mcuforge's own firmware for the model prints `ticks=N unit=instructions` once.
    peer = tmp_path / "peer"
    new_project(peer, GESTURE, "mps2_an386", framework="cmake")
    build_project(peer)
    report = run_bench([GESTURE], ["mps2_an386"], vectors=2, workdir=tmp_path / "bench",
                       peers=parse_peers([f"gesture_mlp_int8={peer / 'build' / 'firmware.elf'}"]))
    assert report.ok and len(report.rows) == 1
    row = report.rows[0]
    assert row.optimized.bit_exact == row.portable.bit_exact == 2
    assert row.optimized.unit == "instructions"
    assert row.optimized.median and row.portable.median and row.optimized.median < row.portable.median
    assert row.macs_per_instruction and row.macs_per_instruction > 0.1
    assert row.peer is not None and row.peer.error == "" and len(row.peer.instructions) == 1
    assert row.vs_peer is not None and abs(row.vs_peer - 1) < 0.05  # the same firmware, another input
    assert 0 < row.arena_bytes <= row.lower_bound_bytes  # outputs may overlap dying inputs
    weights = GESTURE.stat().st_size // 2
    assert row.optimized.flash_model > weights and row.portable.flash_model > weights
    assert (tmp_path / "bench" / "gesture_mlp_int8-mps2_an386-portable" / "build" / "firmware.elf").is_file()


@pytest.mark.slow
@needs_tools
def test_cli_bench_json() -> None:
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "bench", str(GESTURE), "-n", "1",
                           "--json"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    row = data["rows"][0]
    assert data["ok"] and row["board"] == "mps2_an386" and row["speedup"] > 1.0
    assert row["optimized"]["median"] == row["optimized"]["instructions"][0]


def test_cli_bench_on_a_connected_board_needs_its_framework(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "ZEPHYR_BASE"}
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "bench", str(GESTURE), "--board",
                           "nucleo_f746zg", "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 2 and "ZEPHYR_BASE is not set" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "bench", str(GESTURE), "--board",
                           "nucleo_f746zg", "--framework", "cmake"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "needs a framework that can flash it" in proc.stderr


def test_per_layer_rows_put_tflm_beside_ours() -> None:
    from mcuforge.hil.bench import (
        BenchReport,
        BenchRow,
        BuildMeasure,
        PeerLayer,
        PeerMeasure,
        per_layer_markdown,
        per_layer_rows,
    )
    from mcuforge.hil.profile import LayerProfile, ProfileRun

    layers = [LayerProfile(0, "CONV_2D", [1, 4, 4, 8], 1000, 3000, 0.75, "mcf_conv2d_s8"),
              LayerProfile(1, "RESHAPE", [1, 128], 0, 0, 0.0, None),
              LayerProfile(2, "FULLY_CONNECTED", [1, 4], 500, 1000, 0.25, "mcf_fully_connected_s8")]
    row = BenchRow("net", "mps2_an386", 1500, 256, 300, 1, BuildMeasure(), BuildMeasure())
    row.profile = ProfileRun(layers, "instructions", 4280)
    row.tflm = [PeerMeasure("tflm_ref", "a.elf", variant="tflm_ref", label="TFLM ref",
                            layers=[PeerLayer(0, "CONV_2D", 12000), PeerLayer(1, "RESHAPE", 200, "gap"),
                                    PeerLayer(2, "FULLY_CONNECTED", 4000)])]
    head, cells = per_layer_rows(row)
    assert head[-2:] == ["TFLM ref", "ours / TFLM ref"]
    assert cells[0][4:] == ["3,000", "3.00", "75.0%", "12,000", "0.25"]
    assert cells[1][1] == "RESHAPE (alias)" and cells[1][-2:] == ["200*", "-"]  # a gap, no ratio for an alias
    assert cells[-1][1] == "total" and cells[-1][4] == "4,000" and cells[-1][-2:] == ["16,200", "0.25"]
    md = per_layer_markdown(BenchReport([row]))
    assert "**net on mps2_an386**" in md
    assert "| 2 | FULLY_CONNECTED | 1×4 | 500 | 1,000 | 2.00 | 25.0% | 4,000 | 0.25 |" in md
    assert per_layer_rows(BenchRow("x", "b", 1, 1, 1, 1, BuildMeasure(), BuildMeasure())) == ([], [])


@pytest.mark.slow
@needs_tools
def test_bench_per_layer_profile(tmp_path: Path) -> None:
    from mcuforge.generator.frontends import read_model
    from mcuforge.hil.bench import run_bench

    report = run_bench([GESTURE], ["mps2_an386"], vectors=1, workdir=tmp_path, per_layer=True)
    row = report.rows[0]
    assert report.ok and row.profile is not None and row.profile_bit_exact
    assert [layer.index for layer in row.profile.layers] == list(range(len(read_model(GESTURE).operators)))
    assert all(layer.ticks > 0 for layer in row.profile.layers if not layer.alias)
    # the profiled build runs the same kernels: its sum is the unprofiled total plus the counter readings
    assert row.optimized.median is not None
    assert 0 <= row.profile.total - row.optimized.median <= 200 * len(row.profile.layers)


def test_bench_flavor_per_board() -> None:
    from mcuforge.generator.boards import load_board
    from mcuforge.hil.bench import _bench_framework

    assert _bench_framework(load_board("mps2_an386", []), None) == "cmake"
    with pytest.raises(UsageError, match="emulated: the bench uses the bare-metal cmake flavor"):
        _bench_framework(load_board("mps2_an386", []), "zephyr")
    f746 = load_board("nucleo_f746zg", [])
    assert _bench_framework(f746, None) == f746.default_framework != "cmake"
    assert _bench_framework(f746, "platformio") == "platformio"
    with pytest.raises(UsageError, match="benchmarked on the device: it needs a framework that can flash it"):
        _bench_framework(f746, "cmake")


def test_connected_boards_cannot_share_a_port_or_run_peers(tmp_path: Path) -> None:
    from mcuforge.hil.bench import run_bench

    with pytest.raises(UsageError, match="--port names one board"):
        run_bench([GESTURE], ["nucleo_f746zg", "disco_l475_iot1"], port="/dev/ttyACM0", workdir=tmp_path)
    with pytest.raises(UsageError, match="--peer-elf runs in an emulator"):
        run_bench([GESTURE], ["nucleo_f746zg"], peers={"gesture_mlp_int8": GESTURE}, workdir=tmp_path)
    assert not any(tmp_path.iterdir())  # refused before anything was generated


@pytest.mark.parametrize("framework", ["cmake", "zephyr", "platformio"])
def test_extra_cflags_reach_every_flavor(tmp_path: Path, framework: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcuforge.generator import build
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.scaffold import ProjectConfig

    board = load_board("nucleo_f746zg" if framework != "cmake" else "mps2_an386", [])
    monkeypatch.setenv("ZEPHYR_BASE", str(tmp_path))
    monkeypatch.setattr(build, "find_tool", lambda name, **_kw: name)
    cfg = ProjectConfig(model="m.tflite", board=board.id, framework=framework, prefix="m")
    cmds, _elf, env = build.build_command(tmp_path, cfg, board, tmp_path / "build",
                                          extra_cflags=["-DMCF_PORTABLE_KERNELS"])
    if framework == "cmake":
        assert env is not None and env["CFLAGS"].endswith("-DMCF_PORTABLE_KERNELS")
    elif framework == "zephyr":
        assert cmds[-1][-2:] == ["--", "-DEXTRA_CFLAGS=-DMCF_PORTABLE_KERNELS"]
    else:
        assert env is not None and env["PLATFORMIO_BUILD_FLAGS"] == "-DMCF_PORTABLE_KERNELS"
    plain, _elf, _env = build.build_command(tmp_path, cfg, board, tmp_path / "build")
    assert all("-DMCF_PORTABLE_KERNELS" not in " ".join(c) for c in plain)


def test_memory_split_is_reported_without_tflm() -> None:
    import importlib.util

    from rich.console import Console

    from mcuforge.hil.bench import BenchReport, BenchRow, BuildMeasure, MemorySplit, tflm_tables

    row = BenchRow("net", "mps2_an386", 500, 256, 300, 1, BuildMeasure(), BuildMeasure(),
                   memory=MemorySplit(4000, 900, 300, 256, 100, 2500, engine_code=2000, flash_inputs=64))
    console = Console(width=250, record=True)
    for item in tflm_tables(BenchReport([row])):
        console.print(item)
    text = console.export_text()
    assert "memory from the ELF" in text and "4,000" in text and "2,500 (2,000)" in text and "TFLM" not in text
    spec = importlib.util.spec_from_file_location("run_bench", Path(__file__).resolve().parents[1] / "benchmarks"
                                                  / "run_bench.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    md = mod.tflm_markdown(BenchReport([row]))
    assert md.startswith("| model | board | firmware | flash code B |")
    assert "| net | mps2_an386 | mcuforge | 4,000 | 900 | 300 | 64 | 2,500 (2,000) | 256 | 100 |" in md


def test_farm_measurements_run_in_parallel_within_each_boards_free_places() -> None:
    """`bench --place`: the measurements of a board run at once on its free places, no more than
    there are; the first error is raised after every started measurement has ended."""
    import threading
    import time

    from mcuforge.hil.bench import _in_parallel

    lock = threading.Lock()
    running = {"a": 0, "b": 0}
    most = {"a": 0, "b": 0}
    ended: list[str] = []

    def task(board: str, fail: bool = False) -> None:
        with lock:
            running[board] += 1
            most[board] = max(most[board], running[board])
        time.sleep(0.2)
        with lock:
            running[board] -= 1
            ended.append(board)
        if fail:
            raise RuntimeError("place lost")

    started = time.monotonic()
    _in_parallel([(b, lambda b=b: task(b)) for b in "aaaabb"], {"a": 2, "b": 1})
    assert most == {"a": 2, "b": 1} and len(ended) == 6
    assert time.monotonic() - started < 6 * 0.2 * 0.75  # 0.4 s for a, 0.4 s for b, side by side
    ended.clear()
    with pytest.raises(RuntimeError, match="place lost"):
        _in_parallel([("a", lambda: task("a", fail=True)), ("a", lambda: task("a")), ("b", lambda: task("b"))],
                     {"a": 1, "b": 1})
    assert len(ended) == 3
