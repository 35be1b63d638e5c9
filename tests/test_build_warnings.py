"""`mcuforge build` shows the compiler's warnings when the build succeeds, and -v the whole log."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcuforge.generator.build_log import WarningCollector

REPO = Path(__file__).resolve().parents[1]

NINJA_LOG = """\
[0/2] Re-checking globbed directories...
[1/3] Building C object CMakeFiles/firmware.dir/src/main.c.obj
In file included from /p/src/main.c:3:
/p/src/util.h: In function 'clamp':
/p/src/util.h:7:9: warning: unused variable 'k' [-Wunused-variable]
    7 |     int k;
      |         ^
/p/src/main.c: At top level:
/p/src/main.c:41:12: warning: 'probe' defined but not used [-Wunused-function]
   41 | static int probe(void) { return 1; }
      |            ^~~~~
[2/3] Building C object CMakeFiles/firmware.dir/src/other.c.obj
In file included from /p/src/other.c:1:
/p/src/util.h: In function 'clamp':
/p/src/util.h:7:9: warning: unused variable 'k' [-Wunused-variable]
    7 |     int k;
      |         ^
/p/src/other.c:9:5: error: 'y' undeclared (first use in this function)
/p/src/other.c:9:5: note: each undeclared identifier is reported only once
[3/3] Linking C executable firmware.elf
/usr/lib/gcc/arm-none-eabi/13.2.1/../bin/ld: warning: firmware.elf has a LOAD segment with RWX permissions
   text    data     bss     dec     hex filename
"""


def collect(log: str) -> list[str]:
    c = WarningCollector()
    for line in log.splitlines():
        c.feed(line)
    return c.warnings


def test_warnings_keep_their_context_and_come_once() -> None:
    got = collect(NINJA_LOG)
    assert got == [
        "In file included from /p/src/main.c:3:\n/p/src/util.h: In function 'clamp':\n"
        "/p/src/util.h:7:9: warning: unused variable 'k' [-Wunused-variable]\n    7 |     int k;\n      |         ^",
        "/p/src/main.c: At top level:\n/p/src/main.c:41:12: warning: 'probe' defined but not used "
        "[-Wunused-function]\n   41 | static int probe(void) { return 1; }\n      |            ^~~~~",
        "In file included from /p/src/other.c:1:\n/p/src/util.h: In function 'clamp':\n"
        "/p/src/util.h:7:9: warning: unused variable 'k' [-Wunused-variable]\n    7 |     int k;\n      |         ^",
        "/usr/lib/gcc/arm-none-eabi/13.2.1/../bin/ld: warning: firmware.elf has a LOAD "
        "segment with RWX permissions",
    ]


def test_the_same_warning_twice_is_shown_once() -> None:
    line = "/p/a.c:1:1: warning: x [-Wx]"
    assert collect(f"{line}\n[2/3] Building\n{line}\n") == [line]


def test_coloured_diagnostics_are_read_and_shown_plain() -> None:
    """Zephyr builds with -fdiagnostics-color=always: GCC wraps the parts of each line in SGR codes."""
    log = ("\x1b[01m\x1b[K/p/a.c:\x1b[m\x1b[K In function '\x1b[01m\x1b[Kf\x1b[m\x1b[K':\n"
           "\x1b[01m\x1b[K/p/a.c:3:9:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kunused variable "
           "'\x1b[01m\x1b[Kk\x1b[m\x1b[K' [\x1b[01;35m\x1b[K-Wunused-variable\x1b[m\x1b[K]\n"
           "    3 |     int \x1b[01;35m\x1b[Kk\x1b[m\x1b[K;\n"
           "      |         \x1b[01;35m\x1b[K^\x1b[m\x1b[K\n")
    assert collect(log) == ["/p/a.c: In function 'f':\n/p/a.c:3:9: warning: unused variable 'k' [-Wunused-variable]"
                            "\n    3 |     int k;\n      |         ^"]


def test_errors_notes_and_progress_lines_are_not_warnings() -> None:
    log = ("[1/2] Building C object a.c.obj\n/p/a.c:9:5: error: 'y' undeclared\n"
           "/p/a.c:9:5: note: each undeclared identifier is reported only once\n   9 |  y = 1;\n"
           "Compiling .pio/build/native/src/main.o\n-- Configuring done\n")
    assert collect(log) == []


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("cmake") and shutil.which("ninja")),
                    reason="needs arm-none-eabi-gcc, cmake and ninja")
def test_build_shows_warnings_and_verbose_shows_the_log(tmp_path: Path) -> None:
    def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True,
                              text=True, timeout=600)

    project = tmp_path / "p"
    model = REPO / "examples" / "models" / "gesture_mlp_int8.tflite"
    proc = mcuforge("new", str(project), "--model", str(model), "--board", "mps2_an386")
    assert proc.returncode == 0, proc.stderr
    with (project / "src" / "main.c").open("a") as f:
        f.write("\nstatic int mcf_test_unused(void) { return 1; }\n")
    proc = mcuforge("build", str(project))
    assert proc.returncode == 0, proc.stderr
    assert "warning: 'mcf_test_unused' defined but not used [-Wunused-function]" in proc.stderr
    assert "the build succeeded with 1 compiler/linker warning" in proc.stderr
    assert "Linking C executable" not in proc.stderr, "without -v, only the warnings"
    (project / "src" / "main.c").touch()
    proc = mcuforge("build", "-v", str(project))
    assert proc.returncode == 0, proc.stderr
    assert "Linking C executable" in proc.stderr and "[-Wunused-function]" in proc.stderr
