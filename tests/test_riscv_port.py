"""Bare-metal RV32 port (runtime/ports/baremetal/riscv) on QEMU's virt machine (board qemu_riscv32).

Builds tests/c/riscv_port_check.c with riscv64-unknown-elf-gcc (-march=rv32imac -mabi=ilp32,
picolibc) and the linker script generator/linker.py renders for the board (one RAM region, no
flash), runs it through `hil.emulator.start_emulator` (the QEMU command line mcuforge uses) and
checks: .data/.bss set up, exit status through the SiFive test device, minstret and mcycle against
loops of known length (2 instructions per iteration), the UART 8-bit clean over socket:// with
bytes sent while the core is busy, and the trap report.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from generator.boards import load_board
from generator.linker import render_linker_script

REPO = Path(__file__).resolve().parents[1]
PORT_DIR = REPO / "runtime" / "ports" / "baremetal"
CHECK_C = Path(__file__).resolve().parent / "c" / "riscv_port_check.c"
GCC = "riscv64-unknown-elf-gcc"
EXIT_STATUS = 42  # MCF_TEST_EXIT_STATUS in riscv_port_check.c

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(GCC) is None or shutil.which("qemu-system-riscv32") is None,
                       reason="needs riscv64-unknown-elf-gcc with picolibc and qemu-system-riscv32 (Debian: "
                       "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc)"),
]


def build(tmp_path: Path, *defines: str) -> Path:
    board = load_board("qemu_riscv32")
    assert board.cmake is not None
    script = tmp_path / "firmware.ld"
    script.write_text(render_linker_script(board.memory, {}, flash_region=board.image_region().name,
                                           ram_region=board.default_ram().name, origin=board.id))
    elf = tmp_path / "firmware.elf"
    sources = [*sorted((PORT_DIR / "riscv").glob("*.c")), PORT_DIR / "console.c", PORT_DIR / "crt_init.c",
               PORT_DIR / "uart_stream.c",
               PORT_DIR / "mcf_port_baremetal.c", CHECK_C]
    cmd = [GCC, *board.cmake.flags(), "--specs=picolibc.specs", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
           "-ffunction-sections", "-fdata-sections", f"-I{PORT_DIR}", f"-I{PORT_DIR / 'riscv'}",
           f"-I{REPO / 'runtime' / 'include'}", *(f"-D{d}" for d in defines), *map(str, sources),
           "-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", f"-T{script}", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return elf


def run(elf: Path, payloads: list[bytes]) -> tuple[int | None, bytes]:
    """Start the board's emulator, send the first payload (if any) as soon as connected (it arrives before
    the firmware has set up its UART), the others when it says it is busy (they arrive while it does
    not read the UART); collect everything it prints until it exits."""
    from mcuforge.hil.emulator import start_emulator

    board = load_board("qemu_riscv32")
    with start_emulator(board, elf) as emu, socket.create_connection(("127.0.0.1", emu.port), timeout=30) as sock:
        frames = [len(p).to_bytes(2, "little") + p for p in payloads]
        if frames:
            sock.sendall(frames[0])
        got = b""
        sent = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # the emulator exited with bytes of ours unread
                break
            if not chunk:
                break
            got += chunk
            if not sent and b"busy\n" in got:
                sock.sendall(b"".join(frames[1:]))
                sent = True
        emu.proc.wait(timeout=30)
        return emu.proc.returncode, got


def test_init_exit_counters_and_uart(tmp_path: Path) -> None:
    elf = build(tmp_path)
    payload = bytes(range(256)) * 2 + bytes(range(255, -1, -1))
    runs = [run(elf, [payload, b"\x00\x0a\xff", b""]) for _ in range(2)]
    for status, out in runs:
        assert status == EXIT_STATUS, out
        assert b"init data=0x5eed1234 bss=0\n" in out
        assert out.endswith(b"ready\n" + payload + b"\x00\x0a\xff"), out[-64:]
    loops = [(int(n), int(i), int(c)) for n, i, c in re.findall(rb"loop n=(\d+) instret=(\d+) cycle=(\d+)", runs[0][1])]
    assert [n for n, _, _ in loops] == [1000, 2000, 4000]
    # under -icount shift=0 QEMU 7.2 makes mcycle the instruction count too
    assert all(i == c for _, i, c in loops)
    # 2 instructions per iteration, plus a fixed cost of reading the counters
    overhead = {i - 2 * n for n, i, _ in loops}
    assert len(overhead) == 1 and 0 < overhead.pop() < 100
    assert runs[0][1] == runs[1][1], "the two runs printed different counts"


def test_trap_is_reported_and_exits(tmp_path: Path) -> None:
    # nothing sent: a firmware that traps never reads the UART, and bytes left unread when QEMU exits
    # make the connection end in a reset, which can drop the last output before it is read
    status, out = run(build(tmp_path, "MCF_TEST_TRAP=1"), [])
    assert status == 128 + 2, out
    assert re.search(rb"\*\*\* IllegalInstruction \(mcause 2\) mepc=0x8[0-9a-f]{7} mtval=0x", out), out
