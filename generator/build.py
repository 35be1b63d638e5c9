"""`mcuforge build`: run the project's own build tool, then read memory use from the ELF."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .boards import Board, load_board
from .build_log import WarningCollector
from .elf_report import MemoryReport, memory_report
from .errors import McuforgeError, ToolError
from .scaffold import GENERATED_DIR, ProjectConfig, _board_dirs, load_config, pio_default_env
from .stack_usage import StackBound, load_call_graph, set_conf_values, stack_bound, stack_size
from .tools import find_tool, stream_tool


@dataclass
class BuildResult:
    root: Path
    config: ProjectConfig
    board: Board
    elf: Path
    report: MemoryReport | None  # None for PlatformIO's host env `native`
    pio_env: str | None = None
    warnings: list[str] = field(default_factory=list)  # the compiler's and linker's, with context
    stacks: dict[str, StackBound] = field(default_factory=dict)  # Zephyr: Kconfig option -> bound
    stack_sizes: dict[str, int] = field(default_factory=dict)   # Zephyr: Kconfig option -> bytes in prj.conf
    zephyr_modules: dict[str, str] = field(default_factory=dict)  # Zephyr: module name -> folder
    mcuforge_options: dict[str, str] = field(default_factory=dict)  # Zephyr: CONFIG_MCUFORGE* -> value


def _zephyr_env(board: Board) -> dict[str, str]:
    """The environment for west: without the Zephyr SDK, Debian's cross compilers (arm-none-eabi-gcc
    as `gnuarmemb`, riscv64-unknown-elf-gcc as `cross-compile`) unless the user chose a toolchain."""
    env = dict(os.environ)
    if not env.get("ZEPHYR_BASE"):
        raise ToolError("ZEPHYR_BASE is not set: west needs a Zephyr tree to build this project",
                        hint="point ZEPHYR_BASE at a Zephyr 4.x checkout (inside a west workspace)")
    if board.cpu.arch == "riscv":
        # gnuarmemb (an Arm compiler) cannot build a RISC-V board: a shell set up for the Arm
        # boards must not break this one
        if env.get("ZEPHYR_TOOLCHAIN_VARIANT", "gnuarmemb") == "gnuarmemb":
            gcc = find_tool("riscv64-unknown-elf-gcc",
                            hint="apt-get install gcc-riscv64-unknown-elf, or set ZEPHYR_TOOLCHAIN_VARIANT "
                                 "(e.g. zephyr for the Zephyr SDK)")
            env["ZEPHYR_TOOLCHAIN_VARIANT"] = "cross-compile"
            env["CROSS_COMPILE"] = gcc[: -len("gcc")]
        return env
    env.setdefault("ZEPHYR_TOOLCHAIN_VARIANT", "gnuarmemb")
    env.setdefault("GNUARMEMB_TOOLCHAIN_PATH", "/usr")
    return env


def west_workspace(env: dict[str, str]) -> Path:
    """The west workspace holding ZEPHYR_BASE (the nearest folder above it with a `.west/`):
    `west build` and `west flash` run only inside one, so they run from there."""
    base = Path(env["ZEPHYR_BASE"]).resolve()
    if not base.is_dir():
        raise ToolError(f"ZEPHYR_BASE={env['ZEPHYR_BASE']} is not a folder",
                        hint="point ZEPHYR_BASE at the zephyr/ folder of a west workspace")
    for folder in base.parents:
        if (folder / ".west").is_dir():
            return folder
    raise ToolError(f"ZEPHYR_BASE={base} is not inside a west workspace (no .west/ folder above it)",
                    hint=f"make its parent one, offline: cd {base.parent} && west init -l {base.name}")


def firmware_path(root: Path, cfg: ProjectConfig, board: Board, env_name: str | None = None) -> Path:
    """Where the project's build puts the firmware ELF (or, for PlatformIO's native env, the program)."""
    if cfg.framework == "cmake":
        return root / "build" / "firmware.elf"
    if cfg.framework == "zephyr":
        return root / "build" / "zephyr" / "zephyr.elf"
    env_name = env_name or pio_default_env(board)
    return root / ".pio" / "build" / env_name / ("program" if env_name == "native" else "firmware.elf")


@dataclass(frozen=True)
class BuiltProject:
    """A project whose firmware has been built: where it is, its configuration and board, the ELF."""

    root: Path
    config: ProjectConfig
    board: Board
    elf: Path


def built_project(project: Path) -> BuiltProject:
    """The project's configuration, board and firmware; McuforgeError when it is not built yet."""
    root = Path(project).resolve()
    cfg = load_config(root)
    board = load_board(cfg.board, _board_dirs(root, cfg))
    elf = firmware_path(root, cfg, board)
    if not elf.is_file():
        raise McuforgeError(f"no firmware at {elf}", hint=f"run `mcuforge build {root}` first")
    return BuiltProject(root, cfg, board, elf)


def build_command(root: Path, cfg: ProjectConfig, board: Board, build_dir: Path, env_name: str | None = None,
                  extra_cflags: Sequence[str] = ()) -> tuple[list[list[str]], Path, dict[str, str] | None]:
    """The commands that build the project, the ELF they produce, and the environment to use.
    `extra_cflags` (e.g. -DMCF_PORTABLE_KERNELS) go to every C file: through $CFLAGS when CMake
    configures a cmake project (so they apply only to a fresh build folder), Zephyr's EXTRA_CFLAGS,
    or PlatformIO's $PLATFORMIO_BUILD_FLAGS."""
    elf = firmware_path(root, cfg, board, env_name)
    flags = " ".join(extra_cflags)
    if cfg.framework == "cmake":
        cmake = find_tool("cmake", hint="apt-get install cmake ninja-build")
        cmds = []
        if not (build_dir / "build.ninja").exists():
            cmds.append([cmake, "-G", "Ninja", "-S", str(root), "-B", str(build_dir)])
        cmds.append([cmake, "--build", str(build_dir)])
        env = dict(os.environ, CFLAGS=f"{os.environ.get('CFLAGS', '')} {flags}".strip()) if flags else None
        return cmds, elf, env
    if cfg.framework == "zephyr":
        assert board.zephyr is not None
        env = _zephyr_env(board)
        west = find_tool("west", hint="pip install west")
        cmd = [west, "build", "-b", board.zephyr.target, "-d", str(build_dir), str(root)]
        return [cmd + (["--", f"-DEXTRA_CFLAGS={flags}"] if flags else [])], elf, env
    pio = find_tool("pio", hint="pip install platformio")
    env = dict(os.environ, PLATFORMIO_BUILD_FLAGS=flags) if flags else None
    return [[pio, "run", "-d", str(root), "-e", env_name or pio_default_env(board)]], elf, env


def build_project(root: Path, *, on_line: Callable[[str], None] | None = None,
                  env_name: str | None = None, extra_cflags: Sequence[str] = ()) -> BuildResult:
    root = Path(root).resolve()
    cfg = load_config(root)
    board = load_board(cfg.board, _board_dirs(root, cfg))
    build_dir = root / "build"
    cmds, elf, env = build_command(root, cfg, board, build_dir, env_name, extra_cflags)
    cwd = west_workspace(env) if cfg.framework == "zephyr" and env is not None else root
    collector = WarningCollector()

    def seen(line: str) -> None:
        collector.feed(line)
        if on_line:
            on_line(line)

    for cmd in cmds:
        stream_tool(cmd, cwd=cwd, env=env, on_line=seen)
    stacks: dict[str, StackBound] = {}
    sizes: dict[str, int] = {}
    if cfg.framework == "zephyr":
        stacks, sizes = zephyr_stacks(build_dir, cfg.prefix)
        if sizes and _write_stack_sizes(root / "prj.conf", sizes):
            for cmd in cmds:  # the new sizes are Kconfig values: build again with them
                stream_tool(cmd, cwd=cwd, env=env, on_line=seen)
    if not elf.is_file():
        raise McuforgeError(f"the build finished but {elf} is missing")
    if cfg.framework == "platformio":
        env_name = env_name or pio_default_env(board)
    report = None
    if env_name != "native":  # a host program has no board memory to report on
        info = json.loads((root / GENERATED_DIR[cfg.framework] / "mcuforge_build.json").read_text())
        report = memory_report(elf, board, {k: v for k, v in info["symbols"].items() if v})
    modules, options = zephyr_layout(build_dir) if cfg.framework == "zephyr" else ({}, {})
    return BuildResult(root, cfg, board, elf, report, env_name, warnings=collector.warnings, stacks=stacks,
                       stack_sizes=sizes, zephyr_modules=modules, mcuforge_options=options)


def zephyr_layout(build_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The Zephyr modules a build used (build/zephyr_modules.txt: "name":"path":"cmake dir" lines)
    and the mcuforge module's options as configured (build/zephyr/.config)."""
    modules: dict[str, str] = {}
    listing = build_dir / "zephyr_modules.txt"
    for line in listing.read_text().splitlines() if listing.is_file() else []:
        fields = line.split('":"')
        if len(fields) >= 2:
            modules[fields[0].strip('"')] = fields[1].strip('"')
    options: dict[str, str] = {}
    config = build_dir / "zephyr" / ".config"
    for line in config.read_text().splitlines() if config.is_file() else []:
        if line.startswith("CONFIG_MCUFORGE"):
            name, _, value = line.partition("=")
            options[name] = value
        elif line.startswith("# CONFIG_MCUFORGE") and line.endswith(" is not set"):
            options[line[2:-len(" is not set")]] = "n"
    return modules, options


# Bytes a Zephyr thread needs beyond its entry function's call tree: the kernel's z_thread_entry
# frame, and the exception frame an interrupt stacks on the thread's stack (up to 104 B with the
# FPU's lazy state); interrupt handlers themselves run on the interrupt stack.
ZEPHYR_THREAD_MARGIN = 256
# What an unknown callee (libgcc's helpers, anything compiled without -fstack-usage) may use.
UNKNOWN_CALLEE_BYTES = 64


def zephyr_stacks(build_dir: Path, prefix: str) -> tuple[dict[str, StackBound], dict[str, int]]:
    """Stack bounds of a Zephyr build compiled with CONFIG_MCUFORGE_STACK_USAGE: the main thread
    (the module's start-up, which runs the self-test, and the application's main()) and the host
    thread; calls through pointers are taken to reach the model's entry points. Empty when the
    build has no call graph (the option is off)."""
    graph = load_call_graph(build_dir)
    if not graph.frames:
        return {}, {}
    indirect = [f"{prefix}_invoke", f"{prefix}_reset_state"]
    roots = {"CONFIG_MAIN_STACK_SIZE": ["main", "mcf_zephyr_init"],
             "CONFIG_MCUFORGE_HOST_STACK_SIZE": ["host_main"]}
    stacks: dict[str, StackBound] = {}
    for option, names in roots.items():
        found = [b for b in (stack_bound(graph, n, indirect=indirect, unknown_bytes=UNKNOWN_CALLEE_BYTES)
                             for n in names if graph.find(n) is not None)]
        if found:
            stacks[option] = max(found, key=lambda b: (b.bounded is False, b.bytes))
    sizes = {opt: stack_size(b, margin=ZEPHYR_THREAD_MARGIN) for opt, b in stacks.items() if b.bounded}
    return stacks, sizes


def _write_stack_sizes(conf: Path, sizes: dict[str, int]) -> bool:
    """Set the stack options in prj.conf; True if that changed the file."""
    old = conf.read_text() if conf.is_file() else ""
    new = set_conf_values(old, sizes)
    if new == old:
        return False
    conf.write_text(new)
    return True
