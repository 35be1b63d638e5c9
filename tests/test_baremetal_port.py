"""Bare-metal Cortex-M port (runtime/ports/baremetal) and linker scripts (generator/linker.py).

The linker-script tests are plain Python. The `slow` ones build firmware with arm-none-eabi-gcc
(directly, and once through CMake + Ninja with the port's toolchain file) and run it on QEMU's
MPS2 machines: mps2-an385 (Cortex-M3), mps2-an386 (Cortex-M4), mps2-an500 (Cortex-M7).

Memory regions used here are the ones QEMU 7.2 really maps (`info mtree` of each machine):
code RAM "ssram1" at 0x0 (4 MiB, our flash), "ssram23" at 0x20000000 (4 MiB, our SRAM) on all
three, which is also Zephyr's `flash0`/`sram0` for these boards; the 16 MiB `mps.ram` (PSRAM)
sits at 0x21000000 on AN385/AN386 but at 0x60000000 on AN500 (where 0x21000000 is unmapped).
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.linker import (
    LinkerScriptError,
    MemoryRegionLike,
    placement_sections,
    region_symbols,
    render_linker_script,
    section_name,
)

REPO = Path(__file__).resolve().parents[1]
PORT_DIR = REPO / "runtime" / "ports" / "baremetal"
INCLUDE_DIR = REPO / "runtime" / "include"
C_DIR = Path(__file__).resolve().parent / "c"

GCC = shutil.which("arm-none-eabi-gcc")
QEMU = shutil.which("qemu-system-arm")
needs_toolchain = pytest.mark.skipif(
    GCC is None or QEMU is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm on PATH "
    "(Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)",
)

QEMU_TIMEOUT_S = 60.0
INSTR_PER_TICK = 40  # MCF_QEMU_INSTR_PER_TICK in mcf_baremetal.h
SELFTEST_EXIT = 42  # MCF_TEST_EXIT_STATUS in tests/c/baremetal_selftest.c


@dataclass(frozen=True)
class Region:
    """Stand-in for the board model's memory region (only the attributes linker.py reads)."""

    name: str
    base: int
    size: int
    kind: str


MiB = 1 << 20
FLASH = Region("flash", 0x0000_0000, 4 * MiB, "flash")
SRAM = Region("sram", 0x2000_0000, 4 * MiB, "sram")


@dataclass(frozen=True)
class Machine:
    name: str
    cpu_flags: tuple[str, ...]
    cmake_cpu: str
    regions: tuple[Region, ...]
    has_fpu: bool


MACHINES = {
    "mps2-an385": Machine(
        "mps2-an385",
        ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
        "cortex-m3",
        (FLASH, SRAM, Region("psram", 0x2100_0000, 16 * MiB, "psram")),
        False,
    ),
    "mps2-an386": Machine(
        "mps2-an386",
        ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
        "cortex-m4",
        (FLASH, SRAM, Region("psram", 0x2100_0000, 16 * MiB, "psram")),
        True,
    ),
    "mps2-an500": Machine(
        "mps2-an500",
        ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
        "cortex-m7",
        (FLASH, SRAM, Region("psram", 0x6000_0000, 16 * MiB, "psram")),
        True,
    ),
}
PLACEMENTS = {"arena": "psram", "weights": "psram"}


# --------------------------------------------------------------------------------------------
# linker.py (fast)
# --------------------------------------------------------------------------------------------


def test_region_dataclass_satisfies_protocol() -> None:
    assert isinstance(FLASH, MemoryRegionLike)


def test_render_is_deterministic_and_complete() -> None:
    regions = MACHINES["mps2-an385"].regions
    script = render_linker_script(regions, PLACEMENTS, stack_size=4096, origin="mps2-an385")
    assert script == render_linker_script(list(reversed(regions)), dict(reversed(PLACEMENTS.items())),
                                          stack_size=4096, origin="mps2-an385")
    assert "FLASH (rx ) : ORIGIN = 0x00000000, LENGTH = 0x00400000" in script
    assert "PSRAM (rwx) : ORIGIN = 0x21000000, LENGTH = 0x01000000" in script
    assert "ENTRY(Reset_Handler)" in script
    assert "__mcf_stack_size = 0x00001000;" in script
    assert ".mcf_psram (NOLOAD) :" in script
    assert "} > PSRAM AT> FLASH" in script  # weights copied from flash into PSRAM
    assert "LONG(LOADADDR(.mcf_psram_init))" in script
    for symbol in ("__mcf_psram_start", "__mcf_psram_end", "__mcf_psram_init_start", "__mcf_stack_top",
                   "__mcf_copy_table_start", "__mcf_zero_table_end", "__mcf_init_array_start"):
        assert f"{symbol} = ." in script
    # Sections in the order the image needs: vector table first.
    names = (".isr_vector :", ".text :", ".rodata :", ".data :", ".bss (NOLOAD)", ".stack ")
    order = [script.index(name) for name in names]
    assert order == sorted(order)


def test_dict_regions_and_enum_kinds() -> None:
    import enum

    class Kind(enum.Enum):
        FLASH = "flash"
        SRAM = "sram"

    regions = [{"name": "Flash", "base": 0x0800_0000, "size": 1 * MiB, "kind": Kind.FLASH},
               {"name": "sram-1", "base": 0x2000_0000, "size": 128 * 1024, "kind": Kind.SRAM}]
    script = render_linker_script(regions, {"arena": "sram-1"})
    assert "SRAM_1 (rwx) : ORIGIN = 0x20000000, LENGTH = 0x00020000  /* sram-1: sram, 128 KiB */" in script
    assert ".mcf_sram_1 (NOLOAD) :" in script


def test_placement_sections() -> None:
    regions = MACHINES["mps2-an385"].regions
    assert placement_sections(regions, {}) == {"arena": None, "io": None, "weights": None}
    assert placement_sections(regions, {"arena": "psram", "io": "sram", "weights": "flash"}) == {
        "arena": ".mcf_psram", "io": ".mcf_sram", "weights": ".mcf_flash"}
    assert placement_sections(regions, PLACEMENTS)["weights"] == ".mcf_psram_init"
    assert section_name("psram", initialized=True) == ".mcf_psram_init"
    assert region_symbols("psram") == ("__mcf_psram_start", "__mcf_psram_end")


@pytest.mark.parametrize(
    ("regions", "placements", "message"),
    [
        ((FLASH, SRAM), {"arena": "sram2"}, "unknown memory region 'sram2'"),
        ((FLASH, SRAM), {"arena": "flash"}, "cannot place 'arena' in 'flash'"),
        ((FLASH, SRAM), {"weigths": "sram"}, "unknown buffer class 'weigths'"),
        ((FLASH, SRAM, Region("x", 0x2000_1000, 16, "sram")), {}, "overlap"),
        ((FLASH, Region("sram", 0x2000_0000, 4096, "dram")), {}, "kind 'dram'"),
        ((SRAM,), {}, "no memory region of kind flash"),
    ],
)
def test_render_rejects(regions: tuple[Region, ...], placements: dict[str, str], message: str) -> None:
    with pytest.raises(LinkerScriptError, match=re.escape(message)):
        render_linker_script(regions, placements)


def test_board_models_match_qemu_memory_map() -> None:
    """The board YAMLs (generator.boards) describe the regions QEMU 7.2 maps, and render as is."""
    boards = pytest.importorskip("generator.boards")
    for machine in MACHINES.values():
        board = boards.load_board(machine.name.replace("-", "_"))
        got = {(r.name, r.base, r.size, str(r.kind)) for r in board.memory}
        assert got == {(r.name, r.base, r.size, r.kind) for r in machine.regions}, machine.name
        script = render_linker_script(board.memory, PLACEMENTS, origin=board.id)
        assert script == render_linker_script(machine.regions, PLACEMENTS, origin=board.id)


def test_did_you_mean_hints() -> None:
    with pytest.raises(LinkerScriptError) as info:
        render_linker_script((FLASH, SRAM), {"weigths": "sram"})
    assert info.value.hint == "did you mean 'weights'?"
    with pytest.raises(LinkerScriptError) as info:
        render_linker_script((FLASH, SRAM), {"arena": "sarm"})
    assert info.value.hint == "did you mean 'sram'?"


# --------------------------------------------------------------------------------------------
# building and running firmware (slow)
# --------------------------------------------------------------------------------------------


def _port_sources() -> list[Path]:
    """The port's common sources and its Arm family's (arm/)."""
    return sorted([*PORT_DIR.glob("*.c"), *(PORT_DIR / "arm").glob("*.c")])


def build_firmware(machine: Machine, main_c: Path, out_dir: Path, *, placements: dict[str, str],
                   defines: tuple[str, ...] = ()) -> Path:
    """Render the linker script and compile the port plus `main_c` with arm-none-eabi-gcc."""
    assert GCC is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    script = out_dir / "firmware.ld"
    script.write_text(render_linker_script(machine.regions, placements, origin=machine.name))
    elf = out_dir / "firmware.elf"
    cmd = [
        GCC, *machine.cpu_flags, "--specs=nano.specs", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-g",
        "-ffunction-sections", "-fdata-sections", f"-I{PORT_DIR}", f"-I{PORT_DIR / 'arm'}", f"-I{INCLUDE_DIR}",
        *(f"-D{d}" for d in defines),
        *map(str, _port_sources()), str(main_c),
        "-nostartfiles", "-Wl,--gc-sections", f"-T{script}", f"-Wl,-Map={out_dir / 'firmware.map'}",
        "-o", str(elf),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"build failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    return elf


def qemu_argv(machine: str, elf: Path, serial: str) -> list[str]:
    assert QEMU is not None
    return [
        QEMU, "-M", machine, "-display", "none", "-monitor", "none", "-nodefaults", "-nic", "none",
        "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
        "-serial", serial, "-kernel", str(elf),
    ]


@contextmanager
def qemu_process(argv: list[str], **popen: object) -> Iterator[subprocess.Popen[bytes]]:
    """Start QEMU in its own process group and always kill the whole group afterwards."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **popen)  # type: ignore[call-overload]
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def run_to_exit(machine: str, elf: Path) -> tuple[int, str, str]:
    """Run with the UART on stdout; return (exit status, UART text, semihosting/stderr text)."""
    argv = qemu_argv(machine, elf, "stdio")
    with qemu_process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            out, err = proc.communicate(timeout=QEMU_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{machine}: {elf.name} did not exit within {QEMU_TIMEOUT_S:g} s")
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def parse_keys(text: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(r"^(\w+)=(.*?)\r?$", text, re.MULTILINE)}


def elf_symbols(elf: Path) -> dict[str, int]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with elf.open("rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        return {s.name: s["st_value"] for s in symtab.iter_symbols() if s.name}


def elf_section(elf: Path, name: str) -> tuple[str, int, int]:
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as f:
        sec = ELFFile(f).get_section_by_name(name)
        assert sec is not None, f"{elf.name} has no section {name}"
        return sec["sh_type"], sec["sh_addr"], sec["sh_size"]


SELFTEST_DEFINES = ('MCF_TEST_PLACED_SECTION=".mcf_psram"', 'MCF_TEST_WEIGHTS_SECTION=".mcf_psram_init"')


@pytest.fixture(scope="module")
def selftest_elves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if GCC is None or QEMU is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    root = tmp_path_factory.mktemp("baremetal")
    return {name: build_firmware(m, C_DIR / "baremetal_selftest.c", root / name, placements=PLACEMENTS,
                                 defines=SELFTEST_DEFINES)
            for name, m in MACHINES.items()}


def check_selftest_output(machine: Machine, elf: Path, status: int, text: str) -> dict[str, str]:
    assert status == SELFTEST_EXIT, f"{machine.name}: exit status {status}, output:\n{text}"
    keys = parse_keys(text)
    assert "mcf-selftest: done" in text
    assert keys["init_ok"] == "1", ".data not copied, .bss not zeroed or weights not copied to PSRAM"
    assert int(keys["arena_addr"], 16) == elf_symbols(elf)["mcf_test_arena"]
    assert keys["arena_sum"] == str(0xA5 * 4096)
    if machine.has_fpu:
        assert keys["fpu_mul_x100"] == "337"
    # Calibration: 2 * (n_large - n_small) instructions, measured within one tick.
    expected_ticks = int(keys["calib_instr"]) / INSTR_PER_TICK
    assert abs(int(keys["calib_ticks"]) - expected_ticks) <= 1, keys
    assert keys["instr_per_tick"] == str(INSTR_PER_TICK)
    assert keys["monotonic"] == "1"
    assert int(keys["after_wrap"]) >= 1 << 24
    assert keys["fmt"] == "[  -42|7   |00be|ABCD|ok|z|-1234567890123|%]"
    assert "hex=0123456789abcdef u64=18446744073709551615 i64=-9223372036854775808" in text
    assert keys["cycles_counter"] == "0"  # QEMU's DWT does not count
    assert keys["port_tick_unit"] == "instructions"
    return keys


@pytest.mark.slow
@needs_toolchain
@pytest.mark.parametrize("machine_name", sorted(MACHINES))
def test_selftest_placement_exit_and_determinism(machine_name: str, selftest_elves: dict[str, Path]) -> None:
    machine = MACHINES[machine_name]
    elf = selftest_elves[machine_name]
    psram = next(r for r in machine.regions if r.name == "psram")

    # Placement, proven from the ELF: the buffers and their sections lie in the chosen region.
    symbols = elf_symbols(elf)
    for sym in ("mcf_test_arena", "mcf_test_weights", "__mcf_psram_start", "__mcf_psram_init_start"):
        assert psram.base <= symbols[sym] < psram.base + psram.size, f"{sym} at 0x{symbols[sym]:08x}"
    assert symbols["__mcf_psram_start"] <= symbols["mcf_test_arena"] < symbols["__mcf_psram_end"]
    sh_type, addr, size = elf_section(elf, ".mcf_psram")
    assert sh_type == "SHT_NOBITS" and addr == symbols["__mcf_psram_start"] and size >= 4096
    assert elf_section(elf, ".mcf_psram_init")[0] == "SHT_PROGBITS"
    assert symbols["mcf_vector_table"] == 0 and symbols["__mcf_stack_top"] == SRAM.base + SRAM.size

    # Two runs: exit status through semihosting, and identical instruction counts.
    status, text, _ = run_to_exit(machine_name, elf)
    first = check_selftest_output(machine, elf, status, text)
    status, text, _ = run_to_exit(machine_name, elf)
    second = check_selftest_output(machine, elf, status, text)
    for key in ("calib_ticks", "loop_ticks", "after_wrap"):
        assert first[key] == second[key], f"{key} differs between runs: {first[key]} vs {second[key]}"


@pytest.mark.slow
@needs_toolchain
def test_fault_handler_reports_and_exits(tmp_path: Path) -> None:
    machine = MACHINES["mps2-an385"]
    elf = build_firmware(machine, C_DIR / "baremetal_selftest.c", tmp_path, placements={},
                         defines=("MCF_TEST_FAULT=1",))
    status, text, err = run_to_exit(machine.name, elf)
    assert status == 128 + 3, f"exit status {status}, output:\n{text}"
    assert "*** HardFault (exception 3) pc=0x" in text
    assert "HardFault" in err  # semihosting console


def wait_for_serial_port(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """Port QEMU bound for `-serial tcp:127.0.0.1:0,server=on,wait=on` (it says so on stderr).

    Letting QEMU pick the port avoids the race of choosing a free one first: another program
    could take it in between, and the test would then talk to that program.
    """
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.1)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            match = re.search(rb"waiting for connection on: \S*?tcp:127\.0\.0\.1:(\d+),server", seen)
            if match:
                return int(match[1])
        elif proc.poll() is not None:
            break
    pytest.fail(f"QEMU did not open its serial socket: {seen.decode(errors='replace')}")


@pytest.mark.slow
@needs_toolchain
@pytest.mark.parametrize("machine_name", sorted(MACHINES))
def test_uart_socket_echo_is_8bit_clean(machine_name: str, tmp_path: Path) -> None:
    from mcuforge.hil.serial_link import open_serial

    machine = MACHINES[machine_name]
    elf = build_firmware(machine, C_DIR / "baremetal_echo.c", tmp_path, placements={})
    serial_arg = "tcp:127.0.0.1:0,server=on,wait=on"  # QEMU picks the port, starts once we connect
    with qemu_process(qemu_argv(machine_name, elf, serial_arg), stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE) as proc:
        port = wait_for_serial_port(proc)
        # The guest starts the moment the socket is taken and prints its banner at once: pyserial's
        # own socket:// link would empty its input after connecting and could drop the banner
        # (it did, about one run in ten); open_serial keeps it.
        with open_serial(f"socket://127.0.0.1:{port}", timeout=30) as link:
            banner = link.read_until(b"ready\n")
            assert banner.endswith(b"mcf-echo: ready\n"), banner
            payload = bytes(range(256)) + bytes(range(255, -1, -1))
            link.write(len(payload).to_bytes(2, "little") + payload)
            echoed = link.read(len(payload))
            assert echoed == payload
            link.write(b"\x00\x00")  # length 0: firmware exits with status 0
            assert proc.wait(timeout=QEMU_TIMEOUT_S) == 0


@pytest.mark.slow
@needs_toolchain
@pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("ninja") is None, reason="needs cmake and ninja on PATH"
)
def test_cmake_toolchain_build_runs(tmp_path: Path) -> None:
    machine = MACHINES["mps2-an386"]
    script = render_linker_script(machine.regions, PLACEMENTS, origin=machine.name)
    (tmp_path / "firmware.ld").write_text(script)
    defines = " ".join(SELFTEST_DEFINES)
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\n"
        "project(selftest C)\n"
        f'add_subdirectory("{PORT_DIR.as_posix()}" mcf_baremetal)\n'
        f'add_executable(selftest "{(C_DIR / "baremetal_selftest.c").as_posix()}")\n'
        f"target_compile_definitions(selftest PRIVATE {defines})\n"
        "target_compile_options(selftest PRIVATE -Wall -Wextra -Werror)\n"
        "target_link_libraries(selftest PRIVATE mcf_baremetal)\n"
        "mcf_baremetal_firmware(selftest LINKER_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/firmware.ld)\n"
    )
    build = tmp_path / "build"
    configure = [
        "cmake", "-G", "Ninja", "-S", str(tmp_path), "-B", str(build),
        f"-DCMAKE_TOOLCHAIN_FILE={PORT_DIR / 'toolchain-arm-none-eabi.cmake'}",
        f"-DMCF_CPU={machine.cmake_cpu}", "-DCMAKE_BUILD_TYPE=MinSizeRel", "-DMCF_WERROR=ON",
    ]
    for cmd in (configure, ["cmake", "--build", str(build)]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}"
        assert "warning" not in proc.stderr.lower(), proc.stderr
    elf = build / "selftest.elf"
    assert (build / "selftest.bin").is_file()
    status, text, _ = run_to_exit(machine.name, elf)
    check_selftest_output(machine, elf, status, text)
