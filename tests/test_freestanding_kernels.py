"""Kernels cost the same in every build environment.

Zephyr (and other RTOS builds) compile with -ffreestanding, which implies -fno-builtin: there a
`memcpy(&v, p, 4)` is no longer a single load but a call into the C library, whose memcpy may copy
byte by byte (Zephyr's minimal libc does). The kernels therefore never call memcpy / memset /
memmove: fixed-size word accesses go through mcf_read_u32 / mcf_write_u32 (the compiler's built-in
copy, expanded inline), variable-length copies and fills through mcf_copy_s8 / mcf_fill_s8.

1. Every runtime/kernels/*.c (whatever files exist, new kernels included) is compiled with
   arm-none-eabi-gcc the way Zephyr does, for several cores and kernel configurations; the objects'
   relocations must not reference any of those library functions.
2. On QEMU, one reference model built that way (with a byte-by-byte memcpy / memset linked in, as
   Zephyr's minimal libc has, so that any call left over would show) costs the same instructions
   as the normal build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "runtime" / "kernels"
GCC = "arm-none-eabi-gcc"
LIBC_COPIES = {"memcpy", "memset", "memmove", "__aeabi_memcpy", "__aeabi_memcpy4", "__aeabi_memcpy8",
               "__aeabi_memset", "__aeabi_memset4", "__aeabi_memset8", "__aeabi_memclr", "__aeabi_memclr4",
               "__aeabi_memclr8", "__aeabi_memmove", "__aeabi_memmove4", "__aeabi_memmove8"}

# Cores and kernel configurations: Armv6-M (no unaligned access), Armv7-M without and with the DSP
# extension (fast and DSP paths, and the portable build), Armv7E-M with double-precision FPU, Armv8-M.
# Zephyr's default is -Os; -O2 (CONFIG_SPEED_OPTIMIZATIONS) unrolls and vectorizes differently.
CONFIGS = {
    "m0plus-Os": ["-mcpu=cortex-m0plus", "-mfloat-abi=soft", "-Os"],
    "m0plus-O2": ["-mcpu=cortex-m0plus", "-mfloat-abi=soft", "-O2"],
    "m3-Os": ["-mcpu=cortex-m3", "-mfloat-abi=soft", "-Os"],
    "m4-Os": ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os"],
    "m4-O2": ["-mcpu=cortex-m4", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16", "-O2"],
    "m4-portable-Os": ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-DMCF_PORTABLE_KERNELS", "-Os"],
    "m7-O2": ["-mcpu=cortex-m7", "-mfloat-abi=hard", "-mfpu=fpv5-d16", "-O2"],
    "m33-Os": ["-mcpu=cortex-m33", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16", "-Os"],
}
ZEPHYR_LIKE = ["-mthumb", "-ffreestanding", "-fno-builtin", "-ffunction-sections", "-fdata-sections", "-std=c99"]

needs_gcc = pytest.mark.skipif(shutil.which(GCC) is None, reason=f"needs {GCC}")


def kernel_sources() -> list[Path]:
    return sorted(KERNELS.glob("*.c"))


def libc_calls(obj: Path) -> list[str]:
    """'function+0xoffset: symbol' for each relocation in `obj` that refers to a C library copy or
    fill routine (a call, a tail call or an address taken)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    found = []
    with open(obj, "rb") as fh:
        elf = ELFFile(fh)
        symtab = elf.get_section_by_name(".symtab")
        functions = [(s["st_shndx"], s["st_value"] & ~1, s["st_size"], s.name) for s in symtab.iter_symbols()
                     if s["st_info"]["type"] == "STT_FUNC"]
        for sec in elf.iter_sections():
            if not isinstance(sec, RelocationSection):
                continue
            target = sec["sh_info"]
            for rel in sec.iter_relocations():
                name = symtab.get_symbol(rel["r_info_sym"]).name
                if name not in LIBC_COPIES:
                    continue
                at = rel["r_offset"]
                where = next((f"{fn}+{at - start:#x}" for shndx, start, size, fn in functions
                              if shndx == target and start <= at < start + size),
                             f"{elf.get_section(target).name}+{at:#x}")
                found.append(f"{where}: {name}")
    return found


@needs_gcc
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_kernels_call_no_libc_copy_under_freestanding(tmp_path: Path, config: str) -> None:
    sources = kernel_sources()
    assert len(sources) >= 10, sources  # the glob found the kernels

    def compile_one(src: Path) -> tuple[Path, str]:
        obj = tmp_path / f"{src.stem}.o"
        cmd = [GCC, *ZEPHYR_LIKE, *CONFIGS[config], "-I", str(KERNELS), "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
        return src, "\n".join(f"{src.name}: {c}" for c in libc_calls(obj))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(compile_one, sources))
    bad = [text for _src, text in results if text]
    assert not bad, f"C library calls under -ffreestanding ({config}):\n" + "\n".join(bad)


@needs_gcc
def test_the_scan_sees_a_call(tmp_path: Path) -> None:
    """The relocation scan finds a memcpy that -ffreestanding leaves as a call (the test can fail)."""
    src = tmp_path / "bad.c"
    src.write_text("#include <string.h>\n#include <stdint.h>\n"
                   "uint32_t load(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }\n"
                   "void use(int32_t *p);\n"
                   "void clear(void) { int32_t idx[8] = {0}; use(idx); }\n")
    obj = tmp_path / "bad.o"
    subprocess.run([GCC, *ZEPHYR_LIKE, *CONFIGS["m3-Os"], "-c", str(src), "-o", str(obj)], check=True,
                   timeout=120)
    calls = libc_calls(obj)
    assert any(c.startswith("load+") and c.endswith(": memcpy") for c in calls), calls
    assert any(c.startswith("clear+") and c.endswith(": memset") for c in calls), calls


# ---- the same model, built normally and as Zephyr does, on QEMU ---------------------------------

# Zephyr's minimal libc copies and fills a byte at a time; linked into the freestanding build, any
# memcpy / memset the model still calls costs as much there as it would under Zephyr.
BYTEWISE_LIBC = """\
#include <stddef.h>

#define MCF_TEST_NO_PATTERNS __attribute__((optimize("no-tree-loop-distribute-patterns")))

MCF_TEST_NO_PATTERNS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

MCF_TEST_NO_PATTERNS void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--) {
        *d++ = (unsigned char)c;
    }
    return dst;
}
"""

QEMU_TOOLS = (GCC, "qemu-system-arm", "cmake", "ninja")
MODEL = "kws_ref_model"
BOARD = "mps2_an386"


def build(project: Path, model: Path, freestanding: bool) -> None:
    from mcuforge.generator.build import build_project
    from mcuforge.generator.scaffold import new_project

    new_project(project, model, BOARD, framework="cmake")
    flags: list[str] = []
    if freestanding:
        (project / "src" / "bytewise_libc.c").write_text(BYTEWISE_LIBC)
        cmake = project / "CMakeLists.txt"
        text = cmake.read_text()
        assert "  src/main.c\n" in text
        cmake.write_text(text.replace("  src/main.c\n", "  src/main.c\n  src/bytewise_libc.c\n", 1))
        flags = ["-ffreestanding", "-fno-builtin"]
    build_project(project, extra_cflags=flags)


def instructions(project: Path, model: Path) -> int:
    import numpy as np

    from mcuforge.generator.references import Reference
    from mcuforge.generator.validate import random_inputs
    from mcuforge.hil.session import open_session

    with open_session(project, infer_timeout=300.0) as s:
        inputs = random_inputs(s.graph, 1, seed=15)[0]
        res = s.device.infer(inputs)
        want = Reference(model.read_bytes()).run(inputs, len(s.graph.outputs))
    assert all(np.array_equal(g.reshape(-1), w.reshape(-1)) for g, w in zip(res.outputs, want, strict=True))
    assert res.unit == "instructions" and res.elapsed
    return int(res.elapsed)


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in QEMU_TOOLS), reason="needs " + ", ".join(QEMU_TOOLS))
def test_freestanding_build_costs_the_same_instructions(models_dir: Path, tmp_path: Path) -> None:
    model = models_dir / f"{MODEL}.tflite"
    if not model.is_file():
        pytest.skip(f"{model} not found")
    projects = {"normal": tmp_path / "normal", "freestanding": tmp_path / "freestanding"}
    for kind, project in projects.items():
        build(project, model, kind == "freestanding")
    # the freestanding firmware really links the byte-wise routines, not newlib's
    link_map = (projects["freestanding"] / "build" / "firmware.map").read_text()
    assert re.search(r"\.text\.memcpy\s+0x[0-9a-f]+\s+0x[0-9a-f]+ \S*bytewise_libc\.c\.obj", link_map)
    counts = {kind: instructions(project, model) for kind, project in projects.items()}
    assert abs(counts["freestanding"] - counts["normal"]) <= 0.01 * counts["normal"], counts

