"""TensorFlow Lite Micro as a peer for `mcuforge bench --vs tflm`.

The TFLM library is built by TFLM's own Makefile, in the user's TFLM tree (`--tflm-dir` or
$MCUFORGE_TFLM_DIR), exactly as `mcuforge build` calls `west build`: mcuforge never lists or compiles
TFLM's sources itself. What mcuforge writes is a small benchmark harness (its own `main.cc` using
TFLM's public API: `MicroInterpreter`, a `MicroMutableOpResolver` holding the model's operators, a
`MicroProfilerInterface` of its own), the model and the input vectors as C arrays, and it links them
with the bare-metal port (startup, UART, SysTick ticks, a linker script from the board's memory)
against `libtensorflow-microlite.a` with arm-none-eabi-g++.

Two libraries per board: TFLM's reference kernels and its CMSIS-NN kernels
(`OPTIMIZED_KERNEL_DIR=cmsis_nn`), both `TARGET=cortex_m_generic BUILD_TYPE=release` with the
board's CPU and float ABI, and -O2 for TFLM's core, kernels and third-party kernels (TFLM's release
default is -Os for the core): the same optimisation level as mcuforge's own firmware. The build
goes to a cache folder outside the tree (`$MCUFORGE_CACHE_DIR` or ~/.cache/mcuforge), so a second
bench run only links.

The harness runs every vector once (the instructions of `Invoke()` alone, read from SysTick under
QEMU `-icount shift=0`, 40 instructions per tick), prints the outputs in hex for the host to check
bit for bit against the TFLite Micro reference, then builds a second interpreter in the same arena
whose operator registrations have their `invoke` wrapped by a timer (release builds of TFLM compile
their own profiler hooks out), runs one more inference and prints one line per operator. Lines
all start with `mcuforge-tflm:`; `parse_harness_output` reads them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.generator.errors import McuforgeError, ToolError, UsageError

MAKEFILE = "tensorflow/lite/micro/tools/make/Makefile"
DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"
RESOLVER_HEADER = "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#: Third-party folders TFLM's Makefile downloads for a cortex_m_generic build (each download script
#: skips its download when the folder exists). pigweed is used by no library source.
BASE_DOWNLOADS = ("flatbuffers", "gemmlowp", "ruy", "kissfft", "pigweed", "cmsis", "cmsis/Cortex_DFP")
CMSIS_NN_DOWNLOADS = ("cmsis_nn",)
OPT_LEVEL = "-O2"  # the level mcuforge's firmware is built at
LINE_PREFIX = "mcuforge-tflm:"
ARENA_SYMBOL = "mcf_tflm_arena"
MODEL_OBJECT = "tflm_model_data.o"
PORT_SOURCES = ("arm/startup.c", "arm/uart_cmsdk.c", "arm/ticks.c", "arm/semihost.c", "console.c", "crt_init.c",
                "uart_stream.c",
                "syscalls_newlib.c")  # in runtime/ports/baremetal: the common files and the Arm family's
#: Debian's gcc-arm-none-eabi comes without a C++ standard library; TFLM (C++) needs this package's.
CXX_LIBRARY_PACKAGE = "libstdc++-arm-none-eabi-newlib"
RISCV_TARGET = "riscv32_generic"
#: riscv32_generic: no CMSIS; eyalroz_printf (its DebugLog formats with it); riscv_toolchain is the
#: Makefile's own download of a SiFive GCC, unused here (Debian's riscv64-unknown-elf-gcc builds), so an
#: empty folder there is enough to skip it.
RISCV_DOWNLOADS = ("flatbuffers", "gemmlowp", "ruy", "kissfft", "pigweed", "eyalroz_printf", "riscv_toolchain")
#: Folders that may be empty (no library source uses them).
EMPTY_OK_DOWNLOADS = ("pigweed", "riscv_toolchain")
RISCV_PORT_SOURCES = ("riscv/startup.c", "riscv/uart_ns16550.c", "riscv/ticks.c", "riscv/exit.c", "console.c",
                      "crt_init.c", "uart_stream.c")
#: Debian has no C++ library for riscv64-unknown-elf. TFLM's library and the harness use only the
#: header-only part of the C++ library (<cstdint>, <cstring>, <cmath>, <algorithm>, <limits>,
#: <type_traits>, <new>; no exceptions, RTTI, streams or allocation), so an RV32 build takes the
#: headers of the newlib C++ library Debian ships for bare-metal Arm (libstdc++-arm-none-eabi-dev) when
#: riscv64-unknown-elf-g++ has none of its own; the few runtime symbols the link needs are in the
#: harness's tflm_glue.c.
CXX_HEADERS_PACKAGE = "libstdc++-arm-none-eabi-dev"
NEWLIB_CXX_INCLUDE = Path("/usr/include/newlib/c++")


@dataclass(frozen=True)
class TflmVariant:
    name: str  # short id used in JSON and folder names
    label: str  # for tables
    kernels: str = ""  # OPTIMIZED_KERNEL_DIR ("" = TFLM's reference kernels)
    build_type: str = "release"
    opt: str = OPT_LEVEL
    target: str = "cortex_m_generic"  # TFLM's TARGET (riscv32_generic for RV32 boards)

    @property
    def downloads(self) -> tuple[str, ...]:
        if self.target == RISCV_TARGET:
            return RISCV_DOWNLOADS
        return BASE_DOWNLOADS + (CMSIS_NN_DOWNLOADS if self.kernels == "cmsis_nn" else ())

    def describe(self) -> str:
        kernels = f"OPTIMIZED_KERNEL_DIR={self.kernels} " if self.kernels else ""
        return f"{kernels}BUILD_TYPE={self.build_type}, {self.opt} for core, kernels and third-party kernels"


VARIANTS = (TflmVariant("tflm_ref", "TFLM ref"), TflmVariant("tflm_cmsis_nn", "TFLM CMSIS-NN", kernels="cmsis_nn"))
#: RV32 boards: TFLM's riscv32_generic target, reference kernels (its tree has no optimized kernels
#: for RV32 cores without vector or packed-SIMD extensions).
RISCV_VARIANTS = (TflmVariant("tflm_ref", "TFLM ref", target=RISCV_TARGET),)


def variants_for(board: object) -> tuple[TflmVariant, ...]:
    """The TFLM builds measured beside mcuforge on a board: Cortex-M reference and CMSIS-NN, or RV32
    reference."""
    return RISCV_VARIANTS if is_riscv(board) else VARIANTS


def is_riscv(board: object) -> bool:
    return getattr(getattr(board, "cpu", None), "arch", "") == "riscv"


class TflmTreeError(McuforgeError):
    """The TFLite Micro tree cannot build the peer library."""


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------

def tflm_tree(explicit: Path | None) -> Path | None:
    """The TFLM tree to use: --tflm-dir, else $MCUFORGE_TFLM_DIR, else None."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("MCUFORGE_TFLM_DIR", "").strip()
    return Path(env) if env else None


NO_TREE_MESSAGE = ("no TensorFlow Lite Micro tree given (--tflm-dir or $MCUFORGE_TFLM_DIR): "
                   "benchmarking mcuforge's firmware alone")


def missing_downloads(root: Path, variants: Sequence[TflmVariant] = VARIANTS) -> list[str]:
    """Third-party folders the Makefile would download that are not in the tree's downloads/ (an
    empty folder counts as missing, except pigweed, which no library source uses)."""
    wanted: list[str] = []
    for v in variants:
        wanted += [d for d in v.downloads if d not in wanted]
    base = root / DOWNLOADS
    missing = []
    for d in wanted:
        folder = base / d
        if not folder.is_dir() or (d not in EMPTY_OK_DOWNLOADS and not any(folder.iterdir())):
            missing.append(d)
    return missing


def _python_for_make() -> str | None:
    """A python3 with numpy and Pillow: TFLM's Makefile runs generate_cc_arrays.py for its test
    targets while it reads its makefiles, even for `make microlite`."""
    import subprocess

    candidates = [Path(sys.executable).with_name("python3"), Path(sys.executable)]
    found = shutil.which("python3")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.is_file():
            try:
                proc = subprocess.run([str(c), "-c", "import numpy, PIL"], capture_output=True, timeout=60)
                ok = proc.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
            if ok:
                return str(c)
    return None


def check_tree(root: Path, variants: Sequence[TflmVariant] = VARIANTS, *, check_python: bool = True,
               check_compiler: bool = True) -> None:
    """One-line errors for a tree that cannot build offline, or a compiler that cannot build it."""
    if not (root / MAKEFILE).is_file():
        raise UsageError(f"{root} is not a TensorFlow Lite Micro tree (no {MAKEFILE})",
                         hint="pass a checkout of github.com/tensorflow/tflite-micro with --tflm-dir")
    missing = missing_downloads(root, variants)
    if missing:
        raise TflmTreeError(f"TFLite Micro tree {root}: third-party code missing in {DOWNLOADS}/: "
                            + ", ".join(missing),
                            hint="TFLM's Makefile would download them; offline, put the versions its download "
                                 "scripts pin there (see tests/test_tflm_peer.py)")
    if check_python and _python_for_make() is None:
        raise TflmTreeError("TFLite Micro's Makefile runs python3 with numpy and Pillow, and no python3 here has both",
                            hint="pip install numpy pillow")
    if check_compiler:
        if any(v.target != RISCV_TARGET for v in variants):
            check_cxx_library()
        if any(v.target == RISCV_TARGET for v in variants):
            riscv_cxx_headers()


def riscv_cxx_headers(gxx: str | None = None) -> list[str]:
    """-isystem flags for the C++ library headers of an RV32 build: none when riscv64-unknown-elf-g++
    has its own; else those of CXX_HEADERS_PACKAGE (see there); a one-line error without either."""
    import subprocess

    from mcuforge.generator.tools import find_tool

    gxx = gxx or find_tool("riscv64-unknown-elf-g++", hint="apt-get install gcc-riscv64-unknown-elf "
                                                             "picolibc-riscv64-unknown-elf")
    probe = subprocess.run([gxx, "--specs=picolibc.specs", "-x", "c++", "-E", "-", "-o", os.devnull],
                           input=b"#include <cstdint>\n", capture_output=True, timeout=60)
    if probe.returncode == 0:
        return []
    versions = sorted((d for d in NEWLIB_CXX_INCLUDE.glob("*") if (d / "cstdint").is_file()),
                      key=lambda d: [int(x) if x.isdigit() else 0 for x in d.name.split(".")])
    if not versions:
        raise ToolError(f"{Path(gxx).name} has no C++ library headers, which TFLite Micro needs, and "
                        f"{CXX_HEADERS_PACKAGE}'s are not installed either",
                        hint=f"apt-get install {CXX_HEADERS_PACKAGE} (header-only use), or a RISC-V GNU "
                             "toolchain with its C++ library")
    top = versions[-1]
    return ["-isystem", str(top), "-isystem", str(top / "arm-none-eabi")]


def check_cxx_library(gxx: str | None = None) -> None:
    """One-line error when arm-none-eabi-g++ has no C++ standard library to build and link TFLM with.

    GCC answers `-print-file-name=libstdc++.a` with the library's full path, or with the bare name
    when it has none (Debian's gcc-arm-none-eabi without libstdc++-arm-none-eabi-newlib)."""
    from mcuforge.generator.tools import find_tool, run_tool

    gxx = gxx or find_tool("arm-none-eabi-g++", hint=f"apt-get install gcc-arm-none-eabi {CXX_LIBRARY_PACKAGE}")
    printed = run_tool([gxx, "-print-file-name=libstdc++.a"], timeout=60).stdout.decode(errors="replace").strip()
    if not (Path(printed).is_absolute() and Path(printed).is_file()):
        raise ToolError(f"{Path(gxx).name} has no C++ standard library (libstdc++.a), which TFLite Micro needs: "
                        f"install {CXX_LIBRARY_PACKAGE}",
                        hint=f"apt-get install {CXX_LIBRARY_PACKAGE} (Debian, Ubuntu); Arm's own GNU toolchain "
                             "ships it already")


# --------------------------------------------------------------------------------------------
# Building TFLM with its Makefile
# --------------------------------------------------------------------------------------------

def target_arch(board: object) -> tuple[str, list[str]]:
    """TFLM cortex_m_generic TARGET_ARCH (and extra make variables) for a board's CPU flags."""
    cmake = getattr(board, "cmake", None)
    if cmake is None:
        raise UsageError(f"board '{getattr(board, 'id', board)}' has no Cortex-M compiler flags (cmake:)")
    core = cmake.mcpu
    arch = core
    if cmake.mfloat_abi == "hard":
        arch += "+fp"
    elif cmake.mfloat_abi == "softfp":
        arch += "+sfp"
    extra = [f"FPU={cmake.mfpu}"] if cmake.mfpu else []
    return arch, extra


def cache_root() -> Path:
    env = os.environ.get("MCUFORGE_CACHE_DIR", "").strip()
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mcuforge"


def make_variables(root: Path, board: object, variant: TflmVariant, gendir: Path, toolchain_root: str,
                   cxx_headers: Sequence[str] = ()) -> list[str]:
    if variant.target == RISCV_TARGET:
        import shlex

        cmake = getattr(board, "cmake", None)
        if cmake is None or not cmake.march or not cmake.mabi:
            raise UsageError(f"board '{getattr(board, 'id', board)}' has no RISC-V compiler flags (cmake: march, mabi)")
        extra_flags = ["--specs=picolibc.specs", *cxx_headers]
        return [f"TARGET={RISCV_TARGET}", f"TARGET_TOOLCHAIN_ROOT={toolchain_root}",
                "TARGET_TOOLCHAIN_PREFIX=riscv64-unknown-elf-", f"RISCV_ARCH={cmake.march}",
                f"RISCV_ABI={cmake.mabi}", f"RISCV_EXTRA_CFLAGS={shlex.join(extra_flags)}",
                f"BUILD_TYPE={variant.build_type}", f"CORE_OPTIMIZATION_LEVEL={variant.opt}",
                f"KERNEL_OPTIMIZATION_LEVEL={variant.opt}", f"THIRD_PARTY_KERNEL_OPTIMIZATION_LEVEL={variant.opt}",
                f"BASE_GENDIR={gendir}"]
    arch, extra = target_arch(board)
    args = ["TARGET=cortex_m_generic", f"TARGET_ARCH={arch}", *extra,
            f"TARGET_TOOLCHAIN_ROOT={toolchain_root}", "TARGET_TOOLCHAIN_PREFIX=arm-none-eabi-",
            f"BUILD_TYPE={variant.build_type}", f"CORE_OPTIMIZATION_LEVEL={variant.opt}",
            f"KERNEL_OPTIMIZATION_LEVEL={variant.opt}", f"THIRD_PARTY_KERNEL_OPTIMIZATION_LEVEL={variant.opt}",
            f"BASE_GENDIR={gendir}"]
    if variant.kernels:
        args.append(f"OPTIMIZED_KERNEL_DIR={variant.kernels}")
    return args


@dataclass
class TflmLibrary:
    variant: TflmVariant
    tree: Path
    lib: Path
    cxxflags: list[str]
    includes: list[str]
    make_command: str

    @property
    def cpu_flags(self) -> list[str]:
        return [f for f in self.cxxflags
                if f.startswith(("-mcpu=", "-mfpu=", "-mfloat-abi=", "-mthumb", "-march=", "-mabi="))]

    @property
    def riscv(self) -> bool:
        return self.variant.target == RISCV_TARGET


def _make_env(python: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if python:
        env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    return env


def _print_var(text: str, name: str) -> str:
    for line in text.splitlines():
        if line.startswith(name + "="):
            return line[len(name) + 1:]
    raise TflmTreeError(f"TFLM's Makefile did not print {name}")


def build_library(root: Path, board: object, variant: TflmVariant, *, jobs: int | None = None,
                  cache: Path | None = None, on_progress: Callable[[str], None] | None = None) -> TflmLibrary:
    """`make microlite` in the TFLM tree, into a cache folder outside it; then the compiler flags
    and include folders the Makefile used, for the harness."""
    import shlex

    from mcuforge.generator.tools import find_tool, run_tool

    say = on_progress or (lambda _m: None)
    root = Path(root).resolve()
    make = find_tool("make", hint="apt-get install make")
    cxx_headers: list[str] = []
    if variant.target == RISCV_TARGET:
        gxx = find_tool("riscv64-unknown-elf-g++", hint="apt-get install gcc-riscv64-unknown-elf "
                                                         "picolibc-riscv64-unknown-elf")
        cxx_headers = riscv_cxx_headers(gxx)
    else:
        gxx = find_tool("arm-none-eabi-g++", hint="apt-get install gcc-arm-none-eabi")
        check_cxx_library(gxx)
    toolchain_root = str(Path(gxx).resolve().parent) + "/"
    cmake = getattr(board, "cmake", None)
    cpu = f"{getattr(cmake, 'march', '')}|{getattr(cmake, 'mabi', '')}" if variant.target == RISCV_TARGET else ""
    v = variant  # the key of a Cortex-M build as before RV32 builds existed (its cache stays valid)
    vkey = (str(v) if v.target == RISCV_TARGET else f"TflmVariant(name={v.name!r}, label={v.label!r}, "
            f"kernels={v.kernels!r}, build_type={v.build_type!r}, opt={v.opt!r})")
    key = hashlib.sha256(f"{root}|{toolchain_root}|{vkey}{cpu}".encode()).hexdigest()[:12]
    gendir = (cache or cache_root()) / "tflm-build" / key
    gendir.mkdir(parents=True, exist_ok=True)
    variables = make_variables(root, board, variant, gendir, toolchain_root, cxx_headers)
    python = _python_for_make()
    env = _make_env(python)
    cmd = [make, "-f", MAKEFILE, f"-j{jobs or os.cpu_count() or 1}", *variables, "microlite"]
    say(f"building TFLite Micro ({variant.label}) with its Makefile: make {shlex.join(cmd[1:])}")
    with open(gendir / ".mcuforge.lock", "w") as lock:  # one make at a time in this build folder
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        run_tool(cmd, cwd=root, env=env, timeout=7200)
    printed = run_tool([make, "-s", "-f", MAKEFILE, *variables, "print-CXXFLAGS", "print-INCLUDES",
                        "print-MICROLITE_LIB_PATH"], cwd=root, env=env, timeout=600).stdout.decode(errors="replace")
    lib = Path(_print_var(printed, "MICROLITE_LIB_PATH"))
    lib = lib if lib.is_absolute() else root / lib
    if not lib.is_file():
        raise TflmTreeError(f"TFLM's Makefile finished but {lib} is not there")
    includes = []
    for flag in shlex.split(_print_var(printed, "INCLUDES")):
        if flag.startswith("-I"):
            p = Path(flag[2:])
            includes.append("-I" + str(p if p.is_absolute() else (root / p).resolve()))
    cxxflags = [f for f in shlex.split(_print_var(printed, "CXXFLAGS")) if f != "-MD"]
    return TflmLibrary(variant, root, lib, cxxflags, includes, shlex.join(["make", *cmd[1:]]))


# --------------------------------------------------------------------------------------------
# The harness
# --------------------------------------------------------------------------------------------

_ADD_METHOD = re.compile(
    r"TfLiteStatus (Add\w+)\(\s*(?:const TFLMRegistration&\s*\w+\s*=\s*(?:tflite::)?(\w+)\(\))?\s*\)")


@dataclass(frozen=True)
class ResolverEntry:
    opcode: str  # e.g. CONV_2D
    method: str  # e.g. AddConv2D
    register: str  # e.g. Register_CONV_2D; "" when the method takes no registration (then not timed)

    @property
    def timed(self) -> bool:
        return bool(self.register)


def resolver_methods(header_text: str) -> dict[str, tuple[str, str]]:
    """MicroMutableOpResolver's Add* methods → {normalised op name: (method, default registration)}."""
    out: dict[str, tuple[str, str]] = {}
    for method, register in _ADD_METHOD.findall(header_text):
        if method in ("AddCustom", "AddBuiltin"):
            continue
        out[method[3:].lower()] = (method, register)
        if register.startswith("Register_"):
            out.setdefault(register[len("Register_"):].replace("_", "").lower(), (method, register))
    return out


def resolver_entries(opcodes: Sequence[str], header_text: str) -> list[ResolverEntry]:
    """One resolver entry per distinct operator of the model, in first-use order."""
    methods = resolver_methods(header_text)
    entries: list[ResolverEntry] = []
    for op in dict.fromkeys(opcodes):
        if op.startswith("CUSTOM:"):
            raise UsageError(f"the model uses the custom operator {op[7:]!r}: the TFLM peer has no kernel for it")
        found = methods.get(op.replace("_", "").lower())
        if found is None:
            raise UsageError(f"TFLite Micro's MicroMutableOpResolver has no Add method for {op}")
        entries.append(ResolverEntry(op, found[0], found[1]))
    return entries


def _c_bytes(data: bytes, indent: str = "    ") -> str:
    rows = []
    for i in range(0, len(data), 20):
        rows.append(indent + ", ".join(f"0x{b:02x}" for b in data[i:i + 20]) + ",")
    return "\n".join(rows) if rows else indent + "0"


def render_data(model_bytes: bytes, inputs: Sequence[Sequence[np.ndarray]], banner: str) -> tuple[str, str]:
    """(tflm_model_data.h, tflm_model_data.cc): the model flatbuffer and the input vectors."""
    n_in = len(inputs[0]) if inputs else 0
    header = f"""// {banner}
#ifndef MCF_TFLM_MODEL_DATA_H
#define MCF_TFLM_MODEL_DATA_H
#include <stddef.h>
#include <stdint.h>

#define MCF_TFLM_VECTORS {len(inputs)}
#define MCF_TFLM_INPUTS {max(n_in, 1)}

extern "C" {{
extern const uint8_t mcf_tflm_model[];
extern const size_t mcf_tflm_model_bytes;
extern const uint8_t* const mcf_tflm_inputs[MCF_TFLM_VECTORS][MCF_TFLM_INPUTS];
extern const size_t mcf_tflm_input_bytes[MCF_TFLM_INPUTS];
}}
#endif
"""
    parts = [f"// {banner}", '#include "tflm_model_data.h"', "", 'extern "C" {',
             f"alignas(16) const uint8_t mcf_tflm_model[{len(model_bytes)}] = {{", _c_bytes(model_bytes), "};",
             f"const size_t mcf_tflm_model_bytes = {len(model_bytes)};"]
    for v, xs in enumerate(inputs):
        for i, x in enumerate(xs):
            raw = np.ascontiguousarray(x).tobytes()
            parts += [f"alignas(16) static const uint8_t mcf_tflm_input_{v}_{i}[{len(raw)}] = {{", _c_bytes(raw),
                      "};"]
    table = ", ".join("{" + ", ".join(f"mcf_tflm_input_{v}_{i}" for i in range(len(xs))) + "}"
                      for v, xs in enumerate(inputs))
    sizes = ", ".join(str(np.asarray(x).nbytes) for x in inputs[0]) if inputs else "0"
    parts += [f"const uint8_t* const mcf_tflm_inputs[MCF_TFLM_VECTORS][MCF_TFLM_INPUTS] = {{{table}}};",
              f"const size_t mcf_tflm_input_bytes[MCF_TFLM_INPUTS] = {{{sizes}}};", "}", ""]
    return header, "\n".join(parts)


_HARNESS = r"""// @BANNER@
//
// Benchmark harness for TensorFlow Lite Micro, written by mcuforge: runs the embedded model on
// every embedded input vector and prints, on the console UART, lines starting with
// "mcuforge-tflm:" (instructions per Invoke() under QEMU -icount shift=0, outputs in hex, one
// line per operator), then ends through semihosting.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mcf_baremetal.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tflm_model_data.h"

extern "C" {
// The arena, with a C name so the host finds it in the ELF.
alignas(16) uint8_t mcf_tflm_arena[@ARENA@];
}

namespace {

constexpr int kOpTypes = @OP_TYPES@;
constexpr uint32_t kMaxEvents = @MAX_EVENTS@;
const char* const kOpNames[kOpTypes] = {@OP_NAMES@};

// Instructions under QEMU -icount shift=0 (SysTick ticks x 40); cycles-like ticks elsewhere.
uint64_t Now() { return mcf_instructions(); }

// Event storage (zeroed .bss, not part of the profiler object, which has a vtable and so .data).
const char* event_tag[kMaxEvents];
uint64_t event_begin[kMaxEvents];
uint64_t event_end[kMaxEvents];

// Records one event per timed operator invoke: when it began (since Start()) and how long it ran.
class TickProfiler : public tflite::MicroProfilerInterface {
 public:
  void Start() {
    count_ = 0;
    origin_ = Now();
  }
  uint32_t BeginEvent(const char* tag) override {
    if (count_ >= kMaxEvents) return kMaxEvents;
    event_tag[count_] = tag;
    event_begin[count_] = Now();
    event_end[count_] = event_begin[count_];
    return count_++;
  }
  void EndEvent(uint32_t handle) override {
    if (handle < kMaxEvents) event_end[handle] = Now();
  }
  void Print() const {
    for (uint32_t i = 0; i < count_; ++i) {
      mcf_console_puts("mcuforge-tflm: op=");
      mcf_console_put_u64(i);
      mcf_console_puts(" type=");
      mcf_console_puts(event_tag[i]);
      mcf_console_puts(" begin=");
      mcf_console_put_u64(event_begin[i] - origin_);
      mcf_console_puts(" instructions=");
      mcf_console_put_u64(event_end[i] - event_begin[i]);
      mcf_console_puts("\r\n");
    }
  }

 private:
  uint32_t count_ = 0;
  uint64_t origin_ = 0;
};

// The profiler lives on RunProfile()'s stack (a global with a virtual destructor would need
// __cxa_atexit); the timed invokes reach it through this pointer.
TickProfiler* profiler = nullptr;
using InvokeFn = TfLiteStatus (*)(TfLiteContext*, TfLiteNode*);
InvokeFn real_invoke[kOpTypes] = {};

template <int K>
TfLiteStatus TimedInvoke(TfLiteContext* context, TfLiteNode* node) {
  const uint32_t handle = profiler->BeginEvent(kOpNames[K]);
  const TfLiteStatus status = real_invoke[K](context, node);
  profiler->EndEvent(handle);
  return status;
}

// The registration as TFLM makes it, or with its invoke wrapped by the profiler.
template <int K>
TFLMRegistration Maybe(TFLMRegistration registration, bool timed) {
  if (timed) {
    real_invoke[K] = registration.invoke;
    registration.invoke = TimedInvoke<K>;
  }
  return registration;
}

using Resolver = tflite::MicroMutableOpResolver<kOpTypes>;

bool AddOps(Resolver& resolver, bool timed) {
  (void)timed;
  bool ok = true;
@ADD_OPS@
  return ok;
}

void Log(const char* s) { mcf_console_puts(s); }

void Say(const char* key, uint64_t value) {
  mcf_console_puts("mcuforge-tflm: ");
  mcf_console_puts(key);
  mcf_console_puts("=");
  mcf_console_put_u64(value);
  mcf_console_puts("\r\n");
}

int Fail(const char* what) {
  mcf_console_puts("mcuforge-tflm: error=");
  mcf_console_puts(what);
  mcf_console_puts("\r\n");
  return 1;
}

bool Load(tflite::MicroInterpreter& interpreter, int vector) {
  for (size_t i = 0; i < interpreter.inputs_size(); ++i) {
    TfLiteTensor* t = interpreter.input(i);
    if (i >= MCF_TFLM_INPUTS || t->bytes != mcf_tflm_input_bytes[i]) return false;
    memcpy(t->data.raw, mcf_tflm_inputs[vector][i], t->bytes);
  }
  return true;
}

int RunVectors(const tflite::Model* model) {
  Resolver resolver;
  if (!AddOps(resolver, false)) return Fail("resolver");
  tflite::MicroInterpreter interpreter(model, resolver, mcf_tflm_arena, sizeof mcf_tflm_arena);
  if (interpreter.AllocateTensors() != kTfLiteOk) return Fail("allocate_tensors");
  Say("arena_used", interpreter.arena_used_bytes());
  Say("outputs", interpreter.outputs_size());
  for (int v = 0; v < MCF_TFLM_VECTORS; ++v) {
    if (!Load(interpreter, v)) return Fail("input_size");
    const uint64_t t0 = Now();
    const TfLiteStatus status = interpreter.Invoke();
    const uint64_t t1 = Now();
    if (status != kTfLiteOk) return Fail("invoke");
    mcf_console_puts("mcuforge-tflm: vector=");
    mcf_console_put_u64((uint64_t)v);
    mcf_console_puts(" instructions=");
    mcf_console_put_u64(t1 - t0);
    for (size_t o = 0; o < interpreter.outputs_size(); ++o) {
      const TfLiteTensor* t = interpreter.output(o);
      mcf_console_puts(" out");
      mcf_console_put_u64(o);
      mcf_console_puts("=");
      for (size_t b = 0; b < t->bytes; ++b) mcf_console_put_hex(t->data.uint8[b], 2);
    }
    mcf_console_puts("\r\n");
  }
  return 0;
}

// A second interpreter in the same arena (the first one is gone), with timed registrations.
int RunProfile(const tflite::Model* model) {
  TickProfiler ticks;
  profiler = &ticks;
  Resolver resolver;
  if (!AddOps(resolver, true)) return Fail("resolver");
  tflite::MicroInterpreter interpreter(model, resolver, mcf_tflm_arena, sizeof mcf_tflm_arena);
  if (interpreter.AllocateTensors() != kTfLiteOk) return Fail("allocate_tensors");
  if (!Load(interpreter, 0)) return Fail("input_size");
  ticks.Start();
  const uint64_t t0 = Now();
  const TfLiteStatus status = interpreter.Invoke();
  const uint64_t t1 = Now();
  if (status != kTfLiteOk) return Fail("invoke");
  ticks.Print();
  Say("profile_total", t1 - t0);
  return 0;
}

}  // namespace

int main(void) {
  mcf_uart_init(MCF_UART_BAUD);
  RegisterDebugLogCallback(Log);
  mcf_ticks_init();
  mcf_console_puts("\r\nmcuforge-tflm: start model=@MODEL@\r\n");
  const tflite::Model* model = tflite::GetModel(mcf_tflm_model);
  int status = model->version() == TFLITE_SCHEMA_VERSION ? 0 : Fail("schema_version");
  if (status == 0) status = RunVectors(model);
  if (status == 0) status = RunProfile(model);
  Say("done", (uint64_t)status);
  mcf_uart_flush();
  return status;
}
"""


def render_harness(entries: Sequence[ResolverEntry], *, model_name: str, arena_bytes: int, banner: str,
                   max_events: int = 64, riscv: bool = False) -> str:
    lines = []
    for k, e in enumerate(entries):
        if e.timed:
            lines.append(f"  ok = ok && resolver.{e.method}(Maybe<{k}>(tflite::{e.register}(), timed)) == kTfLiteOk;")
        else:
            lines.append(f"  ok = ok && resolver.{e.method}() == kTfLiteOk;  // takes no registration: not timed")
    names = ", ".join(f'"{e.opcode}"' for e in entries) or '""'
    subs = {"@BANNER@": banner, "@ARENA@": str(arena_bytes), "@OP_TYPES@": str(max(len(entries), 1)),
            "@MAX_EVENTS@": str(max_events), "@OP_NAMES@": names, "@ADD_OPS@": "\n".join(lines),
            "@MODEL@": re.sub(r"[^A-Za-z0-9_.-]", "_", model_name)}
    text = _HARNESS
    if riscv:  # riscv32_generic's DebugLog writes to stdout (tflm_glue.c), no callback to register
        text = text.replace('#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"\n', "")
        text = text.replace("  RegisterDebugLogCallback(Log);\n", "  (void)Log;\n")
    for key, value in subs.items():
        text = text.replace(key, value)
    return text


#: RV32 harness: what picolibc and a C++ program without its C++ library need from the application.
_RISCV_GLUE = """/* @BANNER@ */
/* tflm_glue.c - for TFLite Micro on RV32 with picolibc: stdout/stderr on the console UART (TFLM's
 * riscv32_generic DebugLog writes there), eyalroz printf's character output, and the C++ runtime
 * symbols a program without the C++ library links against (no exceptions, no heap). */
#include <stddef.h>
#include <stdio.h>

#include "mcf_baremetal.h"

static int mcf_glue_putc(char c, FILE *f)
{
    char s[2];
    (void)f;
    s[0] = c;
    s[1] = 0;
    mcf_console_puts(s);
    return (unsigned char)c;
}

static FILE mcf_glue_out = FDEV_SETUP_STREAM(mcf_glue_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &mcf_glue_out;
FILE *const stdout = &mcf_glue_out;
FILE *const stderr = &mcf_glue_out;

void putchar_(char c)
{
    mcf_glue_putc(c, &mcf_glue_out);
}

/* A pure virtual call or a delete through a virtual destructor: never happens in TFLM (it allocates
 * from its arena only), so these end the program. */
void __cxa_pure_virtual(void)
{
    mcf_exit(3);
}

void _ZdlPv(void *p) /* operator delete(void *) */
{
    (void)p;
    mcf_exit(3);
}

void _ZdlPvj(void *p, unsigned int n) /* operator delete(void *, size_t) on ilp32 */
{
    (void)p;
    (void)n;
    mcf_exit(3);
}

void *__dso_handle = 0;
"""


def arena_budget(board: object) -> int:
    """Bytes for the harness's arena buffer: plenty, and inside the default RAM region."""
    ram = board.default_ram()  # type: ignore[attr-defined]
    return int(min(1 << 20, max(ram.size - (128 << 10), 16 << 10)))


@dataclass
class HarnessFirmware:
    elf: Path
    map_file: Path
    lib: TflmLibrary


def build_harness(folder: Path, board: object, lib: TflmLibrary, graph: object, model_bytes: bytes,
                  inputs: Sequence[Sequence[np.ndarray]], *, model_name: str, sha256: str) -> HarnessFirmware:
    """Writes the harness, model and vectors, compiles them with TFLM's flags and the bare-metal
    port with the board's, and links everything against libtensorflow-microlite.a."""
    from mcuforge.generator.linker import render_linker_script
    from mcuforge.generator.tools import find_tool, run_tool

    folder.mkdir(parents=True, exist_ok=True)
    header_path = lib.tree / RESOLVER_HEADER
    if not header_path.is_file():
        raise TflmTreeError(f"{lib.tree} has no {RESOLVER_HEADER}")
    opcodes = [op.opcode for op in graph.operators]  # type: ignore[attr-defined]
    entries = resolver_entries(opcodes, header_path.read_text(errors="replace"))
    banner = f"generated by mcuforge from {sha256}, do not edit"
    (folder / "main.cc").write_text(render_harness(entries, model_name=model_name, arena_bytes=arena_budget(board),
                                                   banner=banner, max_events=len(opcodes) + 8, riscv=lib.riscv))
    h, cc = render_data(model_bytes, inputs, banner)
    (folder / "tflm_model_data.h").write_text(h)
    (folder / "tflm_model_data.cc").write_text(cc)
    ld = render_linker_script(board.memory, {}, flash_region=board.image_region().name,  # type: ignore[attr-defined]
                              ram_region=board.default_ram().name,  # type: ignore[attr-defined]
                              origin=f"board {board.id}")  # type: ignore[attr-defined]
    (folder / "firmware.ld").write_text(ld)

    prefix, family = ("riscv64-unknown-elf-", "riscv") if lib.riscv else ("arm-none-eabi-", "arm")
    package = "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf" if lib.riscv else "gcc-arm-none-eabi"
    gcc = find_tool(prefix + "gcc", hint=f"apt-get install {package}")
    gxx = find_tool(prefix + "g++", hint=f"apt-get install {package}")
    port = Path(__file__).resolve().parents[1] / "runtime" / "ports" / "baremetal"
    if not port.is_dir():  # installed package layout
        from mcuforge.generator.resources import runtime_dir

        port = Path(runtime_dir()) / "ports" / "baremetal"
    cpu = lib.cpu_flags
    libc = ["--specs=picolibc.specs"] if lib.riscv else []
    objs = []
    cflags = [*cpu, *libc, OPT_LEVEL, "-ffunction-sections", "-fdata-sections", "-std=c99", "-DMCF_SEMIHOSTING=1",
              f"-I{port}", f"-I{port / family}"]
    sources = [port / src for src in (RISCV_PORT_SOURCES if lib.riscv else PORT_SOURCES)]
    if lib.riscv:
        (folder / "tflm_glue.c").write_text(_RISCV_GLUE.replace("@BANNER@", banner))
        sources.append(folder / "tflm_glue.c")
    for source in sources:
        obj = folder / (source.stem + ".o")
        run_tool([gcc, *cflags, "-c", source, "-o", obj], timeout=600)
        objs.append(obj)
    cxx = [*lib.cxxflags, OPT_LEVEL, *lib.includes, f"-I{port}", f"-I{port / family}", f"-I{folder}"]
    for src, obj_name in (("main.cc", "tflm_main.o"), ("tflm_model_data.cc", MODEL_OBJECT)):
        obj = folder / obj_name
        run_tool([gxx, *cxx, "-c", folder / src, "-o", obj], timeout=1200)
        objs.append(obj)
    elf, map_file = folder / "firmware.elf", folder / "firmware.map"
    specs = ["--specs=picolibc.specs", "-Wl,--no-warn-rwx-segments"] if lib.riscv else ["--specs=nano.specs"]
    # RV32: the C driver, which does not add -lstdc++ (there is none; tflm_glue.c has what is needed)
    run_tool([gcc if lib.riscv else gxx, *cpu, *specs, "-nostartfiles", "-Wl,--gc-sections",
              f"-T{folder / 'firmware.ld'}", f"-Wl,-Map={map_file}", "-o", elf, *objs, lib.lib, "-lm"], timeout=600)
    return HarnessFirmware(elf, map_file, lib)


# --------------------------------------------------------------------------------------------
# Running it and reading what it prints
# --------------------------------------------------------------------------------------------

@dataclass
class HarnessVector:
    index: int
    instructions: int
    outputs: list[bytes]


@dataclass
class HarnessEvent:
    index: int
    op_type: str
    begin: int
    instructions: int


@dataclass
class HarnessOutput:
    arena_used: int | None = None
    vectors: list[HarnessVector] = field(default_factory=list)
    events: list[HarnessEvent] = field(default_factory=list)
    profile_total: int | None = None
    done: int | None = None  # the status main() returned
    error: str = ""


_LINE = re.compile(r"^mcuforge-tflm:\s*(.*)$")
_PAIR = re.compile(r"(\w+)=(\S+)")


def parse_harness_output(text: str) -> HarnessOutput:
    """The `mcuforge-tflm:` lines of the harness's console output (other lines are ignored)."""
    out = HarnessOutput()
    for raw in text.splitlines():
        m = _LINE.match(raw.strip())
        if not m:
            continue
        kv = dict(_PAIR.findall(m.group(1)))
        try:
            if "vector" in kv:
                outs = [bytes.fromhex(kv[k]) for k in sorted((k for k in kv if re.fullmatch(r"out\d+", k)),
                                                             key=lambda k: int(k[3:]))]
                out.vectors.append(HarnessVector(int(kv["vector"]), int(kv["instructions"]), outs))
            elif "op" in kv:
                out.events.append(HarnessEvent(int(kv["op"]), kv.get("type", "?"), int(kv.get("begin", 0)),
                                               int(kv["instructions"])))
            elif "arena_used" in kv:
                out.arena_used = int(kv["arena_used"])
            elif "profile_total" in kv:
                out.profile_total = int(kv["profile_total"])
            elif "done" in kv:
                out.done = int(kv["done"])
            elif "error" in kv:
                out.error = kv["error"]
        except (KeyError, ValueError):
            out.error = out.error or f"unreadable line {raw.strip()[:120]!r}"
    return out


def run_harness(board_id: str, elf: Path, *, timeout: float = 600.0) -> tuple[HarnessOutput, str]:
    """Runs the harness in the board's emulator until it prints its `done` line or exits."""
    from mcuforge.generator.boards import load_board

    from .emulator import start_emulator

    board = load_board(board_id, [])
    text = ""
    with start_emulator(board, elf) as emu, socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if not emu.alive():
                    break
                continue
            if not chunk:
                break
            text += chunk.decode(errors="replace")
            if re.search(r"mcuforge-tflm: done=\d+", text) or ("*** " in text and "exception" in text):
                # read what is left, briefly
                sock.settimeout(0.2)
                try:
                    while more := sock.recv(65536):
                        text += more.decode(errors="replace")
                except (TimeoutError, OSError):
                    pass
                break
    out = parse_harness_output(text)
    if out.done is None and not out.error:
        tail = text.strip()[-300:]
        out.error = (f"the harness did not finish within {timeout:g} s" if time.monotonic() >= deadline
                     else "the harness stopped before its last line") + (f"; it printed: {tail!r}" if tail else "")
    return out, text
