"""The audio front end (TFLite Micro's Signal* operators) on emulated Cortex-M3 (mps2_an385, no FPU):
a 12-step stream bit-exact with TFLite Micro through `mcuforge test` (outputs and the spectral
subtraction noise estimate after every step), and the signal kernels call no floating-point helper."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_kernel_signal import front_end

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("arm-none-eabi-objdump")
                            and shutil.which("qemu-system-arm") and shutil.which("ninja")),
                       reason="needs arm-none-eabi-gcc, arm-none-eabi-objdump, ninja and qemu-system-arm"),
]

STEPS = 12
# libgcc's soft-float helpers: __aeabi_fmul, __aeabi_d2iz, __floatsisf, __muldf3, ...
SOFT_FLOAT = re.compile(r"__aeabi_[fd]|__(add|sub|mul|div|neg|float|fix|extend|trunc|cmp|eq|ne|lt|le|gt|ge)\w*[sdt]f")


def mcuforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=1800)


def test_front_end_stream_on_cortex_m3(tmp_path: Path) -> None:
    model = tmp_path / "front_end.tflite"
    model.write_bytes(front_end(512, 480, 40, 5, 241, clamping=False, pcan=True))
    project = tmp_path / "p"
    for cmd in (("new", str(project), "--model", str(model), "--board", "mps2_an385"), ("build", str(project))):
        proc = mcuforge(*cmd)
        assert proc.returncode == 0, proc.stderr
    proc = mcuforge("test", str(project), "--random", str(STEPS), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] == STEPS and report["stream"] is True
    assert all(v["max_abs_diff"] == 0 and v["state_match"] for v in report["vectors"])
    # No soft-float helper (__aeabi_f*/d*, __*sf*/__*df*) is called from any signal kernel.
    elf = next(project.glob("build/*.elf"))
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    bodies = re.findall(r"^[0-9a-f]+ <(mcf_signal_\w+|isqrt\w*|log_scaled|pcan_gain|butterfly\d)>:\n(.*?)\n\n", dis,
                        re.S | re.M)
    assert len(bodies) >= 9, [name for name, _ in bodies]
    for name, body in bodies:
        calls = re.findall(r"\bbl\s+[0-9a-f]+ <([^>]+)>", body)
        assert not [c for c in calls if SOFT_FLOAT.match(c)], (name, calls)
