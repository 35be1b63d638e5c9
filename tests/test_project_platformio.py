"""PlatformIO projects: the generated platformio.ini and library.json pass PlatformIO's own checks
(envs named after the board, the standard src/ + include/ library layout with a real version, -O2
only outside debug builds), and, with PlatformIO platforms available, `pio run -e native` builds a
program that prints only text by itself and speaks the host protocol on stdin/stdout with
MCUFORGE_HOST=stdio; code added to loop() runs while `mcuforge test` passes against that same
program (MCUFORGE_HOST=tcp:PORT); `pio test -e native` passes; the board firmware builds and the
ELF shows the arena where the placement said (DTCM by default on the F746, where the Arduino
core's RAM begins; SRAM or DTCM with --place, through the linker fragment mcf_place.ld).

Tests and what they need
  * config tests: the `platformio` Python package (`pip install -e ".[platformio]"`); otherwise
    they skip. No network, no platforms.
  * build tests (marked `platformio` and `slow`): the environment variable MCUFORGE_PIO_CORE_DIR
    naming a PlatformIO core folder (what PLATFORMIO_CORE_DIR would name) in which the platforms
    are installed; otherwise they skip. The tests run PlatformIO with PLATFORMIO_CORE_DIR set to it.
    The board builds additionally skip when `<core>/platforms/<board's platform>` is missing.

Offline set-up of that core folder (GUIDE §4; everything outside the repository, e.g. in
~/pio-core):
  1. `pip install platformio scons`.
  2. `<core>/packages/tool-scons/`: `package.json` {"name": "tool-scons", "version": "4.41101.0"},
     a `scons.py` that calls `SCons.Script.main()` (the pip-installed SCons), and a `.piopm`:
     {"type": "tool", "name": "tool-scons", "version": "4.41101.0",
      "spec": {"owner": "platformio", "id": null, "name": "tool-scons", "requirements": null, "uri": null}}
  3. `<core>/platforms/native/`: the files of github.com/platformio/platform-native plus a `.piopm`
     like the one above with type "platform", name "native", version "1.2.1" (owner platformio),
     so that the unchanged `platform = native` resolves without the registry.
  4. Unity: every generated project has a `test/` folder, so even `pio run` wants the test
     framework `throwtheswitch/Unity@^2.6.1` in `.pio/libdeps/<env>/`. Offline, put Unity
     (github.com/ThrowTheSwitch/Unity, tag v2.6.1: strip the `#` comment lines at the top of its
     library.json, which the registry's copy does not have) in `<core>/libdeps/Unity/` with a
     `.piopm` {"type": "library", "name": "Unity", "version": "2.6.1", "spec": {"owner":
     "throwtheswitch", "id": null, "name": "Unity", "requirements": "^2.6.1", "uri": null}}.
     These tests copy it into each project's `.pio/libdeps/<env>/`. Online, leave it out and
     PlatformIO installs Unity itself.
  5. Optional, for the board builds: the same pattern for a board platform and its packages,
     e.g. `platforms/ststm32` (platformio/platform-ststm32) with `packages/framework-arduinoststm32`
     (stm32duino/Arduino_Core_STM32 tag 2.12.0, version 4.21200.0), `packages/framework-cmsis`
     (CMSIS/Core from ARM-software/CMSIS_6 and CMSIS/DSP/{Include,PrivateInclude} from
     ARM-software/CMSIS-DSP, version 2.60300.0), `packages/framework-cmsis-dsp` and
     `packages/toolchain-gccarmnoneeabi` (a `bin/` of symlinks to Debian's arm-none-eabi-*,
     version 1.120301.0), each with a `.piopm` naming owner platformio. The Arduino core is C++:
     Debian's arm gcc needs `libstdc++-arm-none-eabi-newlib` for it.

Run:  MCUFORGE_PIO_CORE_DIR=~/pio-core pytest tests/test_project_platformio.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcuforge.generator.scaffold import new_project
from mcuforge.generator.validate import validate_model

BOARDS = ["nucleo_f746zg", "esp32s3_devkitc", "rpi_pico"]
MODEL = "kws_ref_model"
CORE_ENV = "MCUFORGE_PIO_CORE_DIR"
LINE = re.compile(rb"mcuforge: selftest model=(\w+) checksum=0x([0-9a-f]{8}) ticks=(\d+) unit=(\w+) result=(\w+)")


def _platformio():
    return pytest.importorskip(
        "platformio", reason="the platformio package is not installed (pip install -e '.[platformio]')")


@pytest.fixture(scope="module")
def projects(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One generated PlatformIO project per board (kws_ref_model), shared by the tests here."""
    _platformio()
    base = tmp_path_factory.mktemp("pio")
    out = {}
    for board in BOARDS:
        root = base / board
        new_project(root, models_dir / f"{MODEL}.tflite", board, framework="platformio")
        out[board] = root
    return out


# ---- PlatformIO's own checks, no platforms needed -------------------------------------------------

@pytest.mark.parametrize("board", BOARDS)
def test_platformio_ini_passes_platformio_lint(projects: dict[str, Path], board: str) -> None:
    _platformio()
    from platformio.project.config import ProjectConfig

    from mcuforge.generator.boards import load_board
    from mcuforge.generator.scaffold import pio_default_env

    ini = projects[board] / "platformio.ini"
    result = ProjectConfig.lint(str(ini))  # what `pio project config --lint` runs
    assert result == {"errors": [], "warnings": []}, result

    config = ProjectConfig(str(ini))
    b = load_board(board)
    assert b.platformio is not None
    board_env = board  # the board's env is named after the board id
    assert config.validate(envs=[board_env, "native"], silent=True)
    assert set(config.envs()) == {board_env, "native"}
    assert config.default_envs() == [pio_default_env(b)] == [board_env]
    assert config.get(f"env:{board_env}", "platform") == b.platformio.platform
    assert config.get(f"env:{board_env}", "board") == b.platformio.board
    assert config.get(f"env:{board_env}", "framework") == ["arduino"]
    assert f"-DMCF_SERIAL_BAUD={b.console.baud}" in config.get(f"env:{board_env}", "build_flags")
    assert config.get("env:native", "platform") == "native"
    assert config.get("env:native", "test_framework") == "unity"
    assert "-O2" not in str(config.get(f"env:{board_env}", "build_flags"))  # the library adds it, not debug


@pytest.mark.parametrize("board", BOARDS)
def test_library_json_passes_platformio_manifest_checks(projects: dict[str, Path], board: str) -> None:
    _platformio()
    import semantic_version
    from platformio.package.manifest.parser import ManifestParserFactory
    from platformio.package.manifest.schema import ManifestSchema

    from mcuforge.generator import __version__

    lib = projects[board] / "lib" / "mcuforge_model"
    raw = ManifestParserFactory.new_from_file(str(lib / "library.json")).as_dict()
    manifest = ManifestSchema().load_manifest(raw)  # raises ManifestValidationError when wrong
    assert manifest["name"] == "mcuforge_model"
    # a real version: mcuforge's, with the model's hash as build metadata
    sha = json.loads((lib / "mcuforge_build.json").read_text())["model_sha256"]
    assert str(semantic_version.Version(manifest["version"])) == f"{__version__}+sha.{sha[:12]}"
    # The schema does not look into "build"; check it against PlatformIO's library.json docs: the
    # default layout (src/ compiled, include/ on the include path of the library and its users).
    build = raw["build"]
    assert "srcDir" not in build and "includeDir" not in build and "srcFilter" not in build
    assert build["libArchive"] is False
    assert "-O2" not in json.dumps(build)
    assert (lib / build["extraScript"]).is_file()
    assert not any(p.suffix in (".c", ".cpp") for p in lib.rglob("*") if "src" not in p.relative_to(lib).parts)
    assert not any(p.suffix == ".h" for p in lib.rglob("*") if p.parent != lib / "include")
    sources = {p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.suffix in (".c", ".cpp")}
    assert {"src/ports/native/mcf_port_native.c", "src/ports/arduino/mcf_port_arduino.cpp",
            "src/app/mcf_host.c"} <= sources
    assert (lib / "include" / f"{MODEL}.h").is_file() and (lib / "include" / "mcf_port.h").is_file()


class _SconsEnv(dict):
    """Enough of PlatformIO's SCons environment to run the library's extra_script.py."""

    def __init__(self, build_type: str, platform: str) -> None:
        super().__init__(PIOPLATFORM=platform, CCFLAGS=[], LINKFLAGS=[], CPPDEFINES=[])
        self.build_type = build_type

    def GetBuildType(self) -> str:  # SCons names
        return self.build_type

    def Append(self, **kw: list) -> None:
        for k, v in kw.items():
            self[k] += v


def _run_extra_script(lib: Path, build_type: str, platform: str = "ststm32") -> _SconsEnv:
    env = _SconsEnv(build_type, platform)
    builder = type("LibBuilder", (), {"path": str(lib)})()
    code = compile((lib / "extra_script.py").read_text(), "extra_script.py", "exec")
    exec(code, {"Import": lambda *names: None, "env": env, "pio_lib_builder": builder})
    return env


def test_extra_script_adds_o2_outside_debug_builds(projects: dict[str, Path]) -> None:
    lib = projects["nucleo_f746zg"] / "lib" / "mcuforge_model"
    assert _run_extra_script(lib, "release")["CCFLAGS"] == ["-O2"] == _run_extra_script(lib, "test")["CCFLAGS"]
    assert _run_extra_script(lib, "debug")["CCFLAGS"] == [] == _run_extra_script(lib, "debug, test")["CCFLAGS"]
    assert _run_extra_script(lib, "release")["LINKFLAGS"] == []  # nothing placed: no fragment, no -T
    assert not (lib / "mcf_place.ld").exists()


@pytest.fixture(scope="module")
def placed(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """nucleo_f746zg PlatformIO projects with the arena placed in sram and in dtcm."""
    _platformio()
    base = tmp_path_factory.mktemp("pio-placed")
    return {region: new_project(base / region, models_dir / f"{MODEL}.tflite", "nucleo_f746zg",
                                framework="platformio", place=[f"arena={region}"]).root
            for region in ("sram", "dtcm")}


def _build_info(root: Path) -> dict:
    return json.loads((root / "lib" / "mcuforge_model" / "mcuforge_build.json").read_text())


def test_placement_names_the_region_the_arena_lands_in(projects: dict[str, Path], placed: dict[str, Path]) -> None:
    """Unplaced, the arena is ordinary .bss: on the F746 the Arduino core's RAM begins in DTCM, so
    that is the region mcuforge reports (and no fragment is written); --place arena=REGION writes
    the fragment and links it, also for DTCM, so that the link checks the arena fits there."""
    assert _build_info(projects["nucleo_f746zg"])["placement"]["arena"] == "dtcm"
    assert not (projects["nucleo_f746zg"] / "lib" / "mcuforge_model" / "mcf_place.ld").exists()
    assert _build_info(placed["dtcm"])["placement"]["arena"] == "dtcm"
    dtcm = (placed["dtcm"] / "lib" / "mcuforge_model" / "mcf_place.ld").read_text()
    assert "INSERT BEFORE .data;" in dtcm and "__mcf_dtcm_end <= 0x20010000" in dtcm
    assert _build_info(placed["sram"])["placement"]["arena"] == "sram"
    lib = placed["sram"] / "lib" / "mcuforge_model"
    fragment = (lib / "mcf_place.ld").read_text()
    assert "INSERT AFTER .bss;" in fragment and "__mcf_sram_start >= 0x20010000" in fragment
    header = (lib / "include" / f"{MODEL}.h").read_text()
    assert '#define MCF_ARENA_ATTR __attribute__((section(".mcf_sram")))' in header
    board = _run_extra_script(lib, "release")
    assert board["LINKFLAGS"] == [f"-Wl,-T,{lib / 'mcf_place.ld'}"] and board["CPPDEFINES"] == []
    host = _run_extra_script(lib, "release", "native")  # a host program: ordinary globals
    assert host["LINKFLAGS"] == [] and host["CPPDEFINES"] == [("MCF_ARENA_ATTR", ""), ("MCF_IO_ATTR", "")]


def test_weights_are_not_placed_in_platformio_projects(models_dir: Path, tmp_path: Path) -> None:
    from mcuforge.generator.errors import UsageError

    with pytest.raises(UsageError, match="the weights stay in flash"):
        new_project(tmp_path / "w", models_dir / f"{MODEL}.tflite", "nucleo_f746zg", framework="platformio",
                    place=["weights=dtcm"])


# ---- the native program built with the host compiler, as PlatformIO's native env does (CI) ------

def _host_build(root: Path, out: Path) -> Path:
    """Compiles the project's src/ and its library's src/ like `pio run -e native` (-DPLATFORMIO,
    the library's include/ and src/ on the include path) with the host gcc/g++."""
    cc, cxx = shutil.which("gcc"), shutil.which("g++")
    if cc is None or cxx is None:
        pytest.skip("needs gcc and g++")
    lib = root / "lib" / "mcuforge_model"
    flags = ["-DPLATFORMIO=60200", "-O2", "-Wall", "-I", str(lib / "include"), "-I", str(lib / "src")]
    objs = []
    for n, src in enumerate(sorted([*(lib / "src").rglob("*.c"), *(lib / "src").rglob("*.cpp"),
                                    *(root / "src").glob("*.cpp")])):
        obj = out / f"{n}_{src.stem}.o"
        compiler = cxx if src.suffix == ".cpp" else cc
        subprocess.run([compiler, *flags, "-c", str(src), "-o", str(obj)], check=True, capture_output=True)
        objs.append(str(obj))
    program = out / "program"
    subprocess.run([cxx, *objs, "-o", str(program), "-lm"], check=True, capture_output=True)
    return program


def test_native_program_serves_the_host_from_loop_without_blocking(projects: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    """Text only by itself; with MCUFORGE_HOST=stdio, HELLO at boot and answers to requests, while
    a line added to loop() keeps running between them (mcf_host_poll returns when nothing came)."""
    from mcuforge.hil.protocol import FrameDecoder, Hello, HelloRequest, encode_frame

    root = tmp_path / "p"
    shutil.copytree(projects["nucleo_f746zg"], root)
    main = root / "src" / "main.cpp"
    text = main.read_text().replace('#include "mcf_app.h"', '#include <stdio.h>\n\n#include "mcf_app.h"', 1)
    main.write_text(text.replace("    mcf_host_poll();", LOOP_LINE + "    mcf_host_poll();"))
    program = _host_build(root, tmp_path)

    env = {k: v for k, v in os.environ.items() if k != "MCUFORGE_HOST"}
    alone = subprocess.run([str(program)], stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env)
    assert alone.returncode == 0 and LINE.fullmatch(alone.stdout.rstrip(b"\r\n")), alone.stdout[:300]

    proc = subprocess.Popen([str(program)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(env, MCUFORGE_HOST="stdio"))
    assert proc.stdin is not None
    time.sleep(0.5)  # idle: loop() runs, the link has nothing
    proc.stdin.write(encode_frame(HelloRequest(), seq=3, leading_delimiter=True))
    proc.stdin.flush()
    time.sleep(0.5)
    out, err = proc.communicate(timeout=60)  # closes stdin, the end of the link: the program ends
    assert proc.returncode == 0
    hellos = [f for f in FrameDecoder().feed(out[LINE.search(out).end():]) if isinstance(f, Hello)]  # type: ignore[union-attr]
    assert [h.is_boot for h in hellos] == [True, False] and hellos[1].req_seq == 3
    passes = [int(n) for n in re.findall(rb"user loop: (\d+) passes", err)]
    assert len(passes) >= 3, err[-300:]  # hundreds of passes in the second around the request


# ---- real builds, with PlatformIO platforms from MCUFORGE_PIO_CORE_DIR ---------------------------

def _core_dir() -> Path:
    value = os.environ.get(CORE_ENV)
    if not value:
        pytest.skip(f"{CORE_ENV} is not set: point it at a PlatformIO core folder with the native platform "
                    "installed (set-up: this module's docstring, GUIDE §4)")
    core = Path(value)
    if not (core / "platforms" / "native" / "platform.json").is_file():
        pytest.skip(f"{CORE_ENV}={core} has no native platform (expected {core}/platforms/native/platform.json)")
    return core


@pytest.fixture
def pio_core(monkeypatch: pytest.MonkeyPatch) -> Path:
    _platformio()
    core = _core_dir()
    if shutil.which("pio") is None:
        pytest.skip("the `pio` command is not on PATH (pip install platformio)")
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(core))
    monkeypatch.setenv("PLATFORMIO_SETTING_ENABLE_TELEMETRY", "no")
    monkeypatch.setenv("PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL", "3650")
    return core


def _copy_project(src: Path, dst: Path, core: Path, envs: list[str]) -> Path:
    """A private copy of a generated project (builds write .pio/ into it), with the offline Unity
    copied where PlatformIO looks for installed test-framework libraries."""
    shutil.copytree(src, dst)
    unity = core / "libdeps" / "Unity"
    if unity.is_dir():
        for env in envs:
            shutil.copytree(unity, dst / ".pio" / "libdeps" / env / "Unity")
    return dst


def _pio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "platformio", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)


@pytest.mark.platformio
@pytest.mark.slow
def test_native_program_prints_text_and_serves_the_host_when_asked(
        projects: dict[str, Path], models_dir: Path, pio_core: Path, tmp_path: Path) -> None:
    from mcuforge.generator.build import build_project
    from mcuforge.hil.protocol import FrameDecoder, Hello, HelloRequest, TensorInfo, encode_frame

    root = _copy_project(projects["nucleo_f746zg"], tmp_path / "p", pio_core, ["native"])
    res = build_project(root, env_name="native")
    assert res.elf == root / ".pio" / "build" / "native" / "program" and res.elf.is_file()
    expected = validate_model(models_dir / f"{MODEL}.tflite", count=1, seed=0).checksums[0]

    # By itself (a terminal, a CI log): the self-test line and nothing else; it ends with stdin.
    text = subprocess.run([str(res.elf)], stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "MCUFORGE_HOST"})
    assert text.returncode == 0, text
    m = LINE.fullmatch(text.stdout.rstrip(b"\r\n"))
    assert m, text.stdout[:400]
    assert m.group(1).decode() == MODEL and int(m.group(2), 16) == expected
    assert int(m.group(3)) > 0 and m.group(4) == b"ns" and m.group(5) == b"ok"

    # MCUFORGE_HOST=stdio: one HELLO request, then end of file. The program answers it and ends by
    # itself (the native port exits when stdin closes) with status 0.
    request = encode_frame(HelloRequest(), seq=7, leading_delimiter=True)
    run = subprocess.run([str(res.elf)], input=request, capture_output=True, timeout=120,
                         env=dict(os.environ, MCUFORGE_HOST="stdio"))
    assert run.returncode == 0, run
    m = LINE.search(run.stdout)
    assert m, run.stdout[:400]
    frames = FrameDecoder().feed(run.stdout[m.end():])
    hellos = [f for f in frames if isinstance(f, Hello)]
    assert [h.is_boot for h in hellos] == [True, False], frames
    assert hellos[1].req_seq == 7
    assert hellos[0].board == "nucleo_f746zg"
    assert sum(isinstance(f, TensorInfo) for f in frames) == 2 * (hellos[0].num_inputs + hellos[0].num_outputs)


LOOP_LINE = """    static unsigned long passes;
    if (++passes % 100u == 0u) {
        fprintf(stderr, "user loop: %lu passes\\n", passes);
    }
"""


@pytest.mark.platformio
@pytest.mark.slow
def test_code_added_to_loop_runs_while_mcuforge_test_passes(projects: dict[str, Path], pio_core: Path,
                                                            tmp_path: Path) -> None:
    """The user's loop() and the host protocol share the program: a line added to loop() keeps
    running while `mcuforge test --port native` (which starts the host program with
    MCUFORGE_HOST=tcp:PORT and talks to it over that socket) checks the model against TFLite Micro."""
    from mcuforge.generator.build import build_project

    root = _copy_project(projects["nucleo_f746zg"], tmp_path / "p", pio_core, ["native"])
    main = root / "src" / "main.cpp"
    text = main.read_text().replace('#include "mcf_app.h"', '#include <stdio.h>\n\n#include "mcf_app.h"', 1)
    anchor = "    mcf_host_poll();"
    assert text.count(anchor) == 1
    main.write_text(text.replace(anchor, LOOP_LINE + anchor))
    build_project(root, env_name="native")

    test = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "test", str(root), "--port", "native",
                           "--random", "20"], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "MCUFORGE_HOST"})
    assert test.returncode == 0, test.stdout[-2000:] + test.stderr[-2000:]
    assert "20/20 vectors bit-exact" in test.stdout
    passes = [int(n) for n in re.findall(r"user loop: (\d+) passes", test.stderr)]  # the program's stderr
    assert passes and passes == list(range(100, 100 * len(passes) + 1, 100)), test.stderr[-500:]


def test_port_native_is_for_platformio_projects(tmp_path: Path, models_dir: Path) -> None:
    new_project(tmp_path / "c", models_dir / f"{MODEL}.tflite", "mps2_an385", framework="cmake")
    res = subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", "test", str(tmp_path / "c"), "--port",
                          "native"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "error: --port native runs a PlatformIO project's host program" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.platformio
@pytest.mark.slow
def test_pio_test_native_passes(projects: dict[str, Path], pio_core: Path, tmp_path: Path) -> None:
    root = _copy_project(projects["rpi_pico"], tmp_path / "p", pio_core, ["native"])
    res = _pio("test", "-d", str(root), "-e", "native", cwd=root)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert re.search(r"test_selftest_checksum_matches_tflite_micro\s+\[PASSED\]", res.stdout), res.stdout[-3000:]
    assert re.search(r"test_host_poll_returns_at_once_before_begin\s+\[PASSED\]", res.stdout), res.stdout[-3000:]
    assert "2 test cases: 2 succeeded" in res.stdout


def _board_platform(pio_core: Path, board: str) -> None:
    from mcuforge.generator.boards import load_board

    platform = load_board(board).platformio.platform  # type: ignore[union-attr]
    if not (pio_core / "platforms" / platform / "platform.json").is_file():
        pytest.skip(f"{CORE_ENV} has no '{platform}' platform (and its toolchain/framework packages) for {board}")


@pytest.mark.platformio
@pytest.mark.slow
@pytest.mark.parametrize("board", BOARDS)
def test_board_firmware_builds(projects: dict[str, Path], pio_core: Path, tmp_path: Path, board: str) -> None:
    from mcuforge.generator.build import build_project

    _board_platform(pio_core, board)
    root = _copy_project(projects[board], tmp_path / "p", pio_core, [board])
    res = build_project(root)  # the board's default env, named after the board
    assert res.elf == root / ".pio" / "build" / board / "firmware.elf"
    arena = res.report.symbols["arena"]
    assert arena.region == _build_info(root)["placement"]["arena"]
    assert arena.size > 0


@pytest.mark.platformio
@pytest.mark.slow
@pytest.mark.parametrize("region", ["sram", "dtcm"])
def test_placed_arena_lands_where_asked_on_the_f746(placed: dict[str, Path], pio_core: Path, tmp_path: Path,
                                                    region: str) -> None:
    """--place arena=sram / arena=dtcm with the STM32 Arduino core's own linker script: the ELF
    (generator/elf_report) has the arena in that region; with sram, the heap starts after it."""
    from mcuforge.generator.build import build_project

    _board_platform(pio_core, "nucleo_f746zg")
    root = _copy_project(placed[region], tmp_path / "p", pio_core, ["nucleo_f746zg"])
    res = build_project(root)
    arena = res.report.symbols["arena"]
    assert arena.region == region and arena.size > 0
    base = res.board.region(region).base
    assert arena.address == base  # dtcm: before .data, first in the core's RAM; sram: behind the gap
    if region == "sram":
        from elftools.elf.elffile import ELFFile

        with open(res.elf, "rb") as fh:
            heap = ELFFile(fh).get_section_by_name("._user_heap_stack")["sh_addr"]
        assert heap >= arena.address + arena.size  # the Arduino heap cannot grow over the arena
