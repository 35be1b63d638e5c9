"""Project scaffolding: model + board → a Zephyr, PlatformIO or bare-metal CMake project.

A project has two kinds of files:
  * the user's: rendered once from `project_templates/<framework>/` with cookiecutter (main.c,
    CMakeLists.txt, prj.conf, platformio.ini, …) and never touched again by mcuforge;
  * the generated folder (`mcuforge_model/`, or `lib/mcuforge_model/` for PlatformIO): the
    compiled model, the runtime and the port, rewritten by `mcuforge update` / `new --force`.
`mcuforge.yaml` records the choices (model, board, framework, placement) so `update` and `build`
can redo them.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .boards import Board, MemoryRegion, load_board
from .codegen import C_TYPES, CPlacement, GeneratedLibrary, check_prefix, generate
from .compiler import CompiledModel, compile_graph
from .errors import McuforgeError, OutputExistsError, UsageError
from .frontends import read_model
from .fsutil import replace_dir
from .ir import Graph
from .linker import placement_sections, render_linker_script
from .ops.conv_fsum import onnx_settings
from .placement import Placement, parse_place_options, plan_placement
from .references import is_tflite, open_reference
from .resources import runtime_dir, templates_dir
from .sensor.pipeline import Pipeline, SensorConfigError, SensorSpec, resolve, spec_from_option
from .targets import Target, target_for, targets
from .template_render import render_template_dir
from .validate import output_checksum, random_inputs
from .weights import hot_layers

PROJECT_FILE = "mcuforge.yaml"
Framework = Literal["zephyr", "platformio", "cmake"]
GENERATED_DIR: dict[str, str] = {"cmake": "mcuforge_model", "zephyr": "mcuforge_model",
                                 "platformio": "lib/mcuforge_model"}
SELFTEST_SEED = 0  # the embedded input is `mcuforge validate --seed 0`'s first input


class ProjectError(McuforgeError):
    """The project folder or its mcuforge.yaml is missing or wrong."""


class ProjectConfig(BaseModel):
    """mcuforge.yaml: what `mcuforge new` was asked for; `update` and `build` read it."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    model: str  # path of the .tflite, relative to the project folder
    board: str
    framework: Framework
    prefix: str
    place: dict[str, str] = {}  # buffer → region, as given with --place
    hot_weights: int | None = None  # only the N hottest layers' weights go to place.weights (--hot-weights)
    board_dirs: list[str] = []  # extra board folders (relative to the project or absolute)
    sensor: SensorSpec | None = None  # sensor → input tensor pipeline (generator/sensor), if any
    profile: bool = False  # compile the per-operator profile in (MCF_PROFILE=1; `mcuforge test --profile`)
    # ONNX convolutions onnxruntime runs in float (generator/ops/conv_fsum.py): bit-exact, or integer kernels
    onnx_numerics: Literal["onnxruntime", "integer"] = "onnxruntime"
    ort_threads: int | None = Field(default=None, ge=1)  # onnxruntime threads they are reproduced for


@dataclass(frozen=True)
class Selftest:
    """The input embedded in the firmware, and the checksum TFLite Micro gives for it."""

    header: str
    source: str
    checksum: int


@dataclass
class Project:
    root: Path
    config: ProjectConfig
    board: Board
    compiled: CompiledModel
    library: GeneratedLibrary
    placement: Placement
    selftest: Selftest
    pipeline: Pipeline | None = None  # the resolved `sensor:` section

    @property
    def generated_dir(self) -> Path:
        return self.root / GENERATED_DIR[self.config.framework]


# ---- loading ---------------------------------------------------------------------------------------

def load_config(root: Path) -> ProjectConfig:
    f = root / PROJECT_FILE
    if not f.is_file():
        raise ProjectError(f"{root} is not an mcuforge project (no {PROJECT_FILE})",
                           hint="create one with `mcuforge new DIR --model M --board B`")
    try:
        data = yaml.safe_load(f.read_text())
        return ProjectConfig.model_validate(data)
    except yaml.YAMLError as exc:
        raise ProjectError(f"{f}: not valid YAML ({exc})".replace("\n", " ")) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise ProjectError(f"{f}: {loc}: {err['msg']}") from exc


def _board_dirs(root: Path, cfg: ProjectConfig) -> list[Path]:
    return [(root / d) if not Path(d).is_absolute() else Path(d) for d in cfg.board_dirs]


# ---- the pieces of a project ------------------------------------------------------------------------

_FRAMEWORKS: dict[str, Framework] = {"zephyr": "zephyr", "platformio": "platformio", "cmake": "cmake"}


def _check_framework(board: Board, framework: str | None) -> Framework:
    name = framework or board.default_framework
    chosen = _FRAMEWORKS.get(name)
    if chosen is None:
        raise UsageError(f"unknown framework {name!r}; choose zephyr, platformio or cmake")
    if chosen not in board.frameworks:
        raise UsageError(f"board '{board.id}' does not support the {chosen} framework "
                         f"(it supports: {', '.join(board.frameworks)})",
                         hint=f"use --framework {board.frameworks[0]}")
    return chosen


def pio_frameworks(board: Board) -> list[str]:
    """PlatformIO frameworks the generated platformio.ini offers (the Arduino core; Zephyr users
    take the zephyr flavor, which is Zephyr's own build)."""
    return [f for f in board.platformio.frameworks if f == "arduino"] if board.platformio else []


def pio_default_env(board: Board) -> str:
    """The board's env in platformio.ini: named after the board id (the host env is `native`)."""
    return board.id if pio_frameworks(board) else "native"


def pio_ram(board: Board) -> MemoryRegion:
    """Where the PlatformIO framework's linker script begins its RAM: .data, .bss and so an arena
    that is not placed elsewhere (board YAML `platformio.ram`; default: the board's default RAM)."""
    if board.platformio is not None and board.platformio.ram is not None:
        return board.region(board.platformio.ram)
    return board.default_ram()


def _system_ram(board: Board, framework: str) -> MemoryRegion:
    """The RAM region that holds the program's own data and stack (and unplaced buffers)."""
    return pio_ram(board) if framework == "platformio" else board.default_ram()


def _pio_places(board: Board) -> bool:
    """PlatformIO projects place buffers through a GNU ld fragment (linker.render_insert_fragment)
    added to the framework's script: Arm boards, whose Arduino cores link with GNU ld scripts."""
    return board.cpu.arch == "arm"


def _io_bytes(graph: Graph) -> int:
    return sum((graph.tensors[i].nbytes + 15) // 16 * 16 for i in {*graph.inputs, *graph.outputs})


def _placeable(board: Board, framework: str) -> list:
    """RAM regions, fastest first, that this framework can put a buffer in: any for the bare-metal
    flavor (its linker script is ours) and for PlatformIO on Arm (a fragment inserted into the
    framework's script), those with a Zephyr memory-region node for Zephyr, otherwise only the
    RAM where the framework puts its own data."""
    default = board.default_ram()
    if framework == "cmake" or (framework == "platformio" and _pio_places(board)):
        return board.ram_regions()
    if framework == "zephyr":
        return [r for r in board.ram_regions()
                if r is default or (r.zephyr is not None and r.zephyr.memory_region is not None)]
    return [_system_ram(board, framework)]


def _const_bytes(board: Board, framework: str, lib: GeneratedLibrary) -> int:
    """The constant bytes this build holds: an ONNX model's float convolutions keep float32 weights
    where the build has an FPU and int8 ones where it has not (codegen's `const_bytes_float`)."""
    by_float = lib.manifest.get("const_bytes_float")
    if not isinstance(by_float, dict):
        return int(lib.manifest["const_bytes"])
    return int(by_float["hw" if float_in_hardware(board, framework) else "int"])


def _place(board: Board, framework: str, cm: CompiledModel, lib: GeneratedLibrary,
           requested: dict[str, str], *, dma_only: bool = False) -> Placement:
    """Where the arena, IO and weights go; with `dma_only` the RAM chosen by default is one that
    DMA reaches (a region asked for with --place is checked later, with its reason)."""
    flash = board.image_region()
    hot = lib.manifest.get("hot_ops")
    ram_order = _placeable(board, framework)
    if dma_only:
        ram_order = [r for r in ram_order if r.dma_capable] or ram_order
    return plan_placement(list(board.memory), ram_order=ram_order,
                          system_ram=_system_ram(board, framework).name,
                          flash=flash.name, arena_bytes=cm.plan.arena_bytes,
                          io_bytes_if_separate=_io_bytes(cm.graph), const_bytes=_const_bytes(board, framework, lib),
                          requested=requested, moved_const_bytes=lib.manifest["hot_const_bytes"] if hot else None)


def c_placement(board: Board, framework: str, placement: Placement, *, hot: bool = False,
                pinned: frozenset[str] = frozenset()) -> CPlacement:
    """Section attributes that put each buffer where the placement says, for this framework. With
    `hot`, only the hot layers' weights (MCF_HOT_WEIGHTS_ATTR) go to the weights' region.
    `pinned`: buffers placed with --place; PlatformIO gives them their section even in the region
    where the framework's .bss would put them anyway, so that the link checks they fit it."""
    cp = _c_placement(board, framework, placement, pinned)
    if hot:
        return replace(cp, weights="", hot_weights=cp.weights)
    return cp


def _c_placement(board: Board, framework: str, placement: Placement, pinned: frozenset[str]) -> CPlacement:
    system_ram = _system_ram(board, framework).name
    defaults = {"arena": system_ram, "io": system_ram, "weights": board.image_region().name}
    moved = {b: r for b, r in placement.regions.items() if r != defaults[b]}
    where = ", ".join(f"{b} in {r}" for b, r in sorted(placement.regions.items()))
    if framework == "platformio" and _pio_places(board):
        moved |= {b: r for b, r in placement.regions.items() if b in pinned and b != "weights"}
    if not moved:
        return CPlacement(where=where)
    if framework == "cmake":
        sections = placement_sections(board.memory, moved)
        attrs = {b: f'__attribute__((section("{s}")))' if s else "" for b, s in sections.items()}
        return CPlacement(arena=attrs["arena"], io=attrs["io"], weights=attrs["weights"], where=where)
    if framework == "zephyr":
        attrs = {}
        includes = ["<zephyr/linker/devicetree_regions.h>"]
        for b, region_name in moved.items():
            region = board.region(region_name)
            node = region.zephyr.node if region.zephyr is not None else None
            if b == "weights" and region.is_ram:
                # Constants in RAM must be copied there at boot: Zephyr's startup does that for its
                # DTCM and CCM data sections only (zephyr,memory-region sections are not loaded).
                tags = {"dtcm": "__dtcm_data_section", "ccm": "__ccm_data_section"}
                if node not in tags:
                    raise UsageError(f"--place weights={region_name}: Zephyr copies initialised data at boot "
                                     f"only into its DTCM and CCM sections; '{region_name}' on {board.id} is neither",
                                     hint="place the weights in the board's dtcm/ccm, or use the cmake framework")
                attrs[b] = tags[node]
                includes.append("<zephyr/linker/section_tags.h>")
                continue
            if region.zephyr is None or region.zephyr.memory_region is None:
                raise UsageError(f"--place {b}={region_name}: Zephyr has no linker memory region for "
                                 f"'{region_name}' on {board.id} (no devicetree node with zephyr,memory-region)",
                                 hint="choose a region with a Zephyr memory-region node, or the cmake framework")
            attrs[b] = f"Z_GENERIC_SECTION(LINKER_DT_NODE_REGION_NAME(DT_NODELABEL({region.zephyr.node})))"
        return CPlacement(arena=attrs.get("arena", ""), io=attrs.get("io", ""), weights=attrs.get("weights", ""),
                          includes=tuple(includes), where=where)
    if not _pio_places(board):
        raise UsageError(f"--place {', '.join(f'{b}={r}' for b, r in moved.items())}: mcuforge places buffers in "
                         f"PlatformIO projects only on Arm boards (a GNU ld fragment); {board.id} is "
                         f"{board.cpu.arch}",
                         hint="drop --place, or use --framework zephyr for region placement")
    if "weights" in moved:
        raise UsageError(f"--place weights={moved['weights']}: in PlatformIO projects the weights stay in "
                         f"{board.image_region().name} (the framework's startup copies only its own .data)",
                         hint="place the arena or io instead, or use --framework zephyr or cmake")
    sections = placement_sections(board.memory, moved)
    attrs = {b: f'__attribute__((section("{s}")))' if s else "" for b, s in sections.items()}
    return CPlacement(arena=attrs["arena"], io=attrs["io"], where=where)


def make_selftest(graph: Graph, model_bytes: bytes) -> Selftest:
    """The input vector embedded in the firmware and the checksum the reference (TFLite Micro, or
    onnxruntime for an .onnx model) gives for it."""
    inputs = random_inputs(graph, 1, SELFTEST_SEED)[0]
    ref = open_reference(model_bytes, graph)
    checksum = output_checksum(ref.run(inputs, len(graph.outputs)))
    rows = []
    names = []
    for n, (i, x) in enumerate(zip(graph.inputs, inputs, strict=True)):
        t = graph.tensors[i]
        raw = np.ascontiguousarray(x).tobytes()
        body = ",\n".join("    " + ", ".join(str(b) for b in raw[k:k + 16]) for k in range(0, len(raw), 16))
        rows.append(f"/* input {n}: '{t.name}' {C_TYPES[t.dtype]} {list(t.shape)}, as raw bytes */\n"
                    f"static const uint8_t selftest_input{n}[{len(raw)}] = {{\n{body}\n}};\n")
        names.append(f"selftest_input{n}")
    engine = "TFLite Micro" if is_tflite(model_bytes) else "onnxruntime"
    header = ("/* The input `mcuforge validate --seed 0` uses first, and the FNV-1a checksum of the outputs\n"
              f" * {engine} computes for it. Generated by mcuforge; do not edit. */\n"
              "#ifndef MCF_SELFTEST_H\n#define MCF_SELFTEST_H\n\n#include <stdint.h>\n\n"
              '#ifdef __cplusplus\nextern "C" {\n#endif\n\n'
              f"#define MCF_SELFTEST_CHECKSUM 0x{checksum:08x}u\n\n"
              f"extern const uint8_t *const mcf_selftest_inputs[{len(names)}];\n\n"
              "#ifdef __cplusplus\n}\n#endif\n\n#endif\n")
    source = ('/* Generated by mcuforge; do not edit. */\n#include "mcf_selftest.h"\n\n' + "\n".join(rows) +
              f"\nconst uint8_t *const mcf_selftest_inputs[{len(names)}] = {{{', '.join(names)}}};\n")
    return Selftest(header, source, checksum)


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc",
                                                                                 "__init__.py"))


def _copy_baremetal_port(src: Path, dst: Path, target: Target) -> None:
    """The bare-metal port's common files and the board's CPU family: its folder and toolchain file."""
    others = {n for t in targets().values() if t is not target for n in (t.port_family, t.toolchain_file)}
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py")

    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(skip(folder, names)) | ({n for n in names if n in others} if Path(folder) == src else set())

    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=ignore)


def write_generated(project: Project, model_bytes: bytes, dest: Path) -> None:
    """Fill `dest` (the generated folder) with everything mcuforge owns in the project."""
    cfg, board, lib = project.config, project.board, project.library
    rt = runtime_dir()
    dest.mkdir(parents=True, exist_ok=True)
    model_dir = dest / "model"
    model_dir.mkdir()
    for rel, data in lib.files.items():
        (model_dir / rel).write_bytes(data)
    app = dest / "app"
    app.mkdir()
    for f in [*(rt / "app").glob("*.[ch]"), *(rt / "protocol").glob("*.[ch]")]:
        shutil.copy2(f, app / f.name)
    (dest / "include").mkdir()
    shutil.copy2(rt / "include" / "mcf_port.h", dest / "include" / "mcf_port.h")
    (app / "mcf_selftest.h").write_text(project.selftest.header)
    (app / "mcf_selftest.c").write_text(project.selftest.source)
    ctx = _template_context(project)
    if cfg.framework == "cmake":
        _copy_baremetal_port(rt / "ports" / "baremetal", dest / "ports" / "baremetal", target_for(board.cpu.arch))
        regions = board.memory
        ld = render_linker_script(regions, {b: r for b, r in project.placement.regions.items()},
                                  flash_region=board.image_region().name, ram_region=board.default_ram().name,
                                  origin=f"board {board.id}")
        (dest / "firmware.ld").write_text(ld)
    elif cfg.framework == "zephyr":
        _copy_tree(rt / "ports" / "zephyr", dest / "ports" / "zephyr")
    else:
        for port in ("native", "arduino"):
            if (rt / "ports" / port).is_dir():
                _copy_tree(rt / "ports" / port, dest / "ports" / port)
    if project.pipeline is not None:
        _write_sensor_glue(project, app)
    if cfg.framework == "platformio":
        _pio_library_layout(dest)
        fragment = _pio_linker_fragment(project)
        if fragment is not None:
            (dest / PIO_LINKER_FRAGMENT).write_text(fragment)
    _render_dir(templates_dir() / "generated" / cfg.framework, dest, ctx)
    (dest / "mcuforge_build.json").write_text(_build_info(project))


PIO_LINKER_FRAGMENT = "mcf_place.ld"  # in the PlatformIO library folder; its extra_script.py links it


def _pio_moved(project: Project) -> dict[str, str]:
    """PlatformIO: the buffers placed outside the RAM where the framework puts its own data, and
    those placed with --place (the fragment then checks they fit the region asked for)."""
    ram = pio_ram(project.board).name
    return {b: r for b, r in project.placement.regions.items()
            if b != "weights" and (r != ram or b in project.config.place) and _pio_places(project.board)}


def _pio_linker_fragment(project: Project) -> str | None:
    """The GNU ld fragment that puts the placed arena/io where mcuforge.yaml says (None: nothing moved)."""
    from .linker import render_insert_fragment

    moved = _pio_moved(project)
    if not moved:
        return None
    return render_insert_fragment(project.board.memory, moved, ram_region=pio_ram(project.board).name,
                                  origin=f"board {project.board.id}")


def _pio_library_layout(dest: Path) -> None:
    """The usual PlatformIO library layout: headers in include/ (on the include path of the
    library and of the code that uses it), sources in src/ (model/, app/, ports/<port>/)."""
    inc, src = dest / "include", dest / "src"
    for sub in ("model", "app"):
        for f in sorted((dest / sub).iterdir()):
            target = inc if f.suffix == ".h" else src / sub
            target.mkdir(parents=True, exist_ok=True)
            f.rename(target / f.name)
        (dest / sub).rmdir()
    (dest / "ports").rename(src / "ports")


def _write_sensor_glue(project: Project, app: Path) -> None:
    """The sensor pipeline's runtime files and its generated config, next to the host protocol."""
    from .sensor.codegen import config_header, runtime_files

    pipeline = project.pipeline
    assert pipeline is not None
    src = runtime_dir() / "sensor"
    for rel in runtime_files(pipeline):
        shutil.copy2(src / rel, app / Path(rel).name)
    if pipeline.features is not None:  # e.g. the feature stage's constant tables
        for name, text in sorted(pipeline.features.c_files().items()):
            (app / name).write_text(text)
    cp = c_placement(project.board, project.config.framework, project.placement,
                     pinned=frozenset(project.config.place))
    (app / "mcf_sensor_config.h").write_text(
        config_header(pipeline, model_sha256=project.compiled.graph.sha256, board_id=project.board.id,
                      buffer_attr=cp.arena, attr_includes=cp.includes if cp.arena else ()))


def _build_info(project: Project) -> str:
    import json

    p = project.placement
    info = {"board": project.board.id, "framework": project.config.framework, "prefix": project.config.prefix,
            "model_sha256": project.compiled.graph.sha256, "selftest_checksum": project.selftest.checksum,
            "placement": p.regions, "sizes": p.sizes,
            "symbols": {"arena": f"{project.config.prefix}_arena",
                        "io": f"{project.config.prefix}_io" if p.separate_io else None}}
    if project.pipeline is not None:
        info["symbols"]["sensor"] = "mcf_sensor_ring"  # type: ignore[index]
        info["sensor"] = {"ram_bytes": project.pipeline.ram_bytes, "pipeline": project.pipeline.describe()}
    return json.dumps(info, indent=2) + "\n"


def float_in_hardware(board: Board, framework: str) -> bool:
    """Whether a build of this flavour runs float32 arithmetic on an FPU: the bare-metal build as its
    ``cmake:`` flags say (-mfloat-abi=hard / softfp, an RV32 ISA with F); Zephyr (CONFIG_FPU=y, set
    by the template) and PlatformIO on a Cortex-M whose board has one."""
    if framework == "cmake" and board.cmake is not None:
        if board.cpu.arch == "riscv":
            isa = (board.cmake.march or "").split("_")[0][len("rv32"):]
            return "f" in isa or "g" in isa
        return board.cmake.mfloat_abi != "soft"
    return board.cpu.arch == "arm" and board.cpu.fpu != "none"


def soft_float_warning(project: Project) -> str | None:
    """What to tell the user when an .onnx model's float convolutions are reproduced bit for bit in
    software floating point (the build has no FPU), where they cost more than their integer form."""
    fconv = project.compiled.float_convs
    if fconv is None or fconv.numerics != "onnxruntime" or float_in_hardware(project.board, project.config.framework):
        return None
    return (f"{fconv.count} convolution(s) onnxruntime runs in float are reproduced bit for bit in software "
            f"floating point ({project.board.cpu.core}, {project.config.framework} build: no FPU): integer sums "
            "decide most outputs, float32 operations emulated in integers the rest, which costs more than their "
            "integer kernels (whole models measured on Cortex-M3: 1.01 to 1.05 times the instructions of the same "
            "network from .tflite); `onnx_numerics: integer` in mcuforge.yaml, then `mcuforge update`, runs them on "
            "the integer kernels (within one quantization step of onnxruntime)")


def _template_context(project: Project) -> dict[str, object]:
    cfg, board, m = project.config, project.board, project.library.manifest
    return {
        "project_slug": project.root.name,
        "project_name": project.root.name,
        "prefix": cfg.prefix,
        "prefix_upper": cfg.prefix.upper(),
        "model_file": cfg.model,
        "model_name": project.compiled.graph.name,
        "model_sha256": project.compiled.graph.sha256,
        "board_id": board.id,
        "board_name": board.name,
        "framework": cfg.framework,
        "generated_dir": GENERATED_DIR[cfg.framework],
        "arena_bytes": m["arena_bytes"],
        "io_bytes": m["io_bytes"],
        "const_bytes": m["const_bytes"],
        "macs": m["macs"],
        "placement": dict(project.placement.regions),
        "selftest_checksum": f"0x{project.selftest.checksum:08x}",
        "console_baud": board.console.baud,
        "cpu_flags": " ".join(board.cmake.flags()) if board.cmake else "",
        "hard_float": float_in_hardware(board, "zephyr"),  # prj.conf: CONFIG_FPU=y
        "toolchain_file": target_for(board.cpu.arch).toolchain_file if board.cmake else "",
        "cpu_family": target_for(board.cpu.arch).port_family if board.cmake else "",
        # Debian packages a CI runner needs to build and emulate the bare-metal project
        "toolchain_packages": (f"{target_for(board.cpu.arch).packages} {target_for(board.cpu.arch).qemu_packages}"
                               if board.cmake else "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"),
        "zephyr_board": board.zephyr.target if board.zephyr else "",
        "zephyr_modules": list(board.zephyr.modules) if board.zephyr else [],
        "pio": ({"platform": board.platformio.platform, "board": board.platformio.board,
                 "frameworks": pio_frameworks(board)} if board.platformio else None),
        "pio_default_env": pio_default_env(board),
        "pio_linker_fragment": PIO_LINKER_FRAGMENT if cfg.framework == "platformio" and _pio_moved(project) else None,
        "library_version": f"{__version__}+sha.{project.compiled.graph.sha256[:12]}",
        "emulated": board.emulator is not None,
        "inputs": m["inputs"],
        "outputs": m["outputs"],
        "sensor": _sensor_context(project.pipeline),
        "profile": cfg.profile,
    }


def _sensor_context(p: Pipeline | None) -> dict[str, object] | None:
    """What the project templates need to know about the sensor pipeline (None: no pipeline)."""
    if p is None:
        return None
    lib_dep = None
    if p.source == "board" and p.framework == "platformio" and p.sensor is not None and p.camera is None:
        from .sensor.arduino import ARDUINO_LIBRARIES

        lib_dep = ARDUINO_LIBRARIES[p.sensor.arduino_library or ""].lib_dep
    return {"source": p.source, "kind": p.kind or "", "part": p.part or "", "live": p.source == "board",
            "channels": list(p.channels), "window": p.window, "hop": p.hop, "rate_hz": p.rate_hz,
            "arduino_lib_dep": lib_dep, "describe": p.describe(), "camera": p.camera is not None,
            "frame_buffers": p.frame_buffers,
            "sw_generator": p.sensor is not None and p.sensor.zephyr is not None
            and p.sensor.zephyr.compatible == "zephyr,video-sw-generator",
            "zephyr_node": p.sensor.zephyr.node if p.sensor is not None and p.sensor.zephyr is not None else None,
            "microphone": p.source == "board" and p.kind == "microphone",
            "dfsdm": p.source == "board" and p.kind == "microphone" and p.sensor is not None
            and p.sensor.dfsdm is not None,
            "zephyr_compatible": p.sensor.zephyr.compatible if p.sensor is not None and p.sensor.zephyr is not None
            else None}


def _render_dir(template: Path, dest: Path, ctx: dict[str, object], *, skip_existing: bool = False) -> list[Path]:
    """Render a cookiecutter template into `dest` (file and folder names are templates too).

    Every value lives in one cookiecutter dict variable, `cookiecutter.mcuforge`, so lists and
    nested data pass through unchanged. With skip_existing, files already in dest are left alone.
    """
    with tempfile.TemporaryDirectory(prefix="mcuforge-render-") as staging:
        out = render_template_dir(template, {"project_slug": "rendered", "mcuforge": ctx}, Path(staging))
        written = []
        for src in sorted(out.rglob("*")):
            if src.is_dir():
                continue
            target = dest / src.relative_to(out)
            if skip_existing and target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
            written.append(target)
    return written


# ---- the commands ---------------------------------------------------------------------------------

def prepare(root: Path, cfg: ProjectConfig, model_path: Path) -> tuple[Project, bytes]:
    """Everything up to (not including) writing: fails here, and nothing is written."""
    with onnx_settings(cfg.onnx_numerics, cfg.ort_threads):  # the C and the selftest's onnxruntime alike
        return _prepare(root, cfg, model_path)


def _prepare(root: Path, cfg: ProjectConfig, model_path: Path) -> tuple[Project, bytes]:
    check_prefix(cfg.prefix)
    board = load_board(cfg.board, _board_dirs(root, cfg))
    framework = _check_framework(board, cfg.framework)
    cfg = cfg.model_copy(update={"framework": framework})
    if framework == "cmake" and (board.cmake is None or board.cpu.arch not in targets()):
        raise UsageError(f"board '{board.id}' has no bare-metal CMake support")
    requested = {k: board.region(v).name for k, v in cfg.place.items()}
    graph = read_model(model_path)
    model_bytes = model_path.read_bytes()
    cm = compile_graph(graph)
    hot: tuple[int, ...] = ()
    if cfg.hot_weights is not None:
        if "weights" not in requested or requested["weights"] == board.image_region().name:
            raise UsageError(f"--hot-weights {cfg.hot_weights} needs a region for them: --place weights=REGION",
                             hint="e.g. --place weights=dtcm --hot-weights 3 (a RAM region: copied there at boot)")
        hot = hot_layers(cm, cfg.hot_weights)
    lib = generate(cm, cfg.prefix, hot_ops=hot)
    pipeline = resolve(cfg.sensor, graph, board, framework) if cfg.sensor is not None else None
    # a camera that fills its frame buffers by DMA: they go with the arena, into RAM that DMA reaches
    dma_only = pipeline is not None and pipeline.source == "board" and pipeline.sensor is not None \
        and pipeline.sensor.camera is not None and pipeline.sensor.camera.dma
    placement = _place(board, framework, cm, lib, requested, dma_only=dma_only)
    if placement.separate_io:
        cm = compile_graph(graph, separate_io=True)
    lib = generate(cm, cfg.prefix, c_placement(board, framework, placement, hot=bool(hot), pinned=frozenset(requested)),
                   hot_ops=hot)
    if pipeline is not None:
        _check_sensor_ram(board, placement, pipeline)
    return Project(root, cfg, board, cm, lib, placement, make_selftest(graph, model_bytes), pipeline), model_bytes


def _check_sensor_ram(board: Board, placement: Placement, pipeline: Pipeline) -> None:
    """The glue's static buffers go where the arena goes; they must fit there too, and a camera
    whose driver fills its frame buffers by DMA needs a region that DMA reaches."""
    region = board.region(placement.regions["arena"])
    used = placement.used.get(region.name, 0)
    cam = pipeline.camera
    caps = pipeline.sensor.camera if pipeline.source == "board" and pipeline.sensor is not None else None
    if caps is not None and caps.dma and not region.dma_capable:
        dma_regions = [r.name for r in board.memory if r.is_ram and r.dma_capable]
        raise SensorConfigError(f"the {pipeline.sensor.part if pipeline.sensor else 'camera'}'s frame buffers go "
                                f"where the arena goes, {region.name}, which its capture DMA does not reach",
                                hint=f"--place arena={dma_regions[0]}" if dma_regions else None)
    if used + pipeline.ram_bytes > region.size:
        what = (f"{pipeline.frame_buffers} × {cam.frame_bytes:,} B frame buffers and rows" if cam is not None
                else f"window {pipeline.window} × {pipeline.num_channels} channels")
        hint = "smaller camera frames" if cam is not None else "a shorter window, or fewer channels"
        raise SensorConfigError(f"the sensor buffers ({pipeline.ram_bytes:,} B: {what}) do not fit {region.name} "
                                f"next to the model ({used:,} of {region.size:,} B used)", hint=hint)


def new_project(root: Path, model: Path, board_id: str, *, framework: str | None = None,
                place: list[str] | None = None, prefix: str | None = None, force: bool = False,
                board_dirs: list[str] | None = None, sensor: str | None = None, profile: bool = False,
                hot_weights: int | None = None) -> Project:
    """A new project. `sensor` is the `--sensor KIND[:PART]` option: the pipeline's defaults are
    derived from the model input and the board, and written out in full to mcuforge.yaml."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputExistsError(f"{root} exists and is not a folder")
    if root.exists() and any(root.iterdir()) and not force:
        raise OutputExistsError(f"folder already exists: {root}",
                                hint="choose a new folder, or pass --force to regenerate mcuforge's files "
                                     "there (your own files are kept)")
    if not Path(model).is_file():
        read_model(model)  # raises the precise "not found" / "is a folder" error
    prefix = prefix or _default_prefix(Path(model))
    model_rel = f"model/{Path(model).name}"
    dirs = [str(Path(d).resolve()) for d in board_dirs or []]
    chosen = _check_framework(load_board(board_id, [Path(d) for d in dirs]), framework)
    cfg = ProjectConfig(model=model_rel, board=board_id, framework=chosen, prefix=prefix,
                        place=parse_place_options(place or []), board_dirs=dirs,
                        sensor=spec_from_option(sensor) if sensor is not None else None, profile=profile,
                        hot_weights=hot_weights)
    project, model_bytes = prepare(root, cfg, Path(model))
    fconv = project.compiled.float_convs
    if fconv is not None and cfg.ort_threads is None:  # the thread count used, so `update` elsewhere keeps it
        project.config = project.config.model_copy(update={"ort_threads": fconv.threads})
    if project.pipeline is not None:  # record every derived default, so the yaml shows them
        project.config = project.config.model_copy(update={"sensor": project.pipeline.to_spec()})

    def fill(tmp: Path) -> None:
        ctx = _template_context(project)
        # the framework's files after the common ones: a framework may have its own (e.g. Zephyr's workflow)
        _render_dir(templates_dir() / "common", tmp, ctx, skip_existing=False)
        _render_dir(templates_dir() / cfg.framework, tmp, ctx, skip_existing=False)
        (tmp / "model").mkdir(exist_ok=True)
        (tmp / model_rel).write_bytes(model_bytes)
        (tmp / PROJECT_FILE).write_text(_config_yaml(project.config))
        write_generated(project, model_bytes, tmp / GENERATED_DIR[cfg.framework])

    if root.exists() and any(root.iterdir()):
        _regenerate_in_place(project, model_bytes, extra=lambda tmp: None, new_config=True,
                             new_model=(model_rel, model_bytes))
    else:
        replace_dir(root, fill, force=True)
    return project


def update_project(root: Path) -> Project:
    root = Path(root)
    cfg = load_config(root)
    project, model_bytes = prepare(root, cfg, root / cfg.model)
    _regenerate_in_place(project, model_bytes, extra=lambda tmp: None)
    return project


def _regenerate_in_place(project: Project, model_bytes: bytes, *, extra: object, new_config: bool = False,
                         new_model: tuple[str, bytes] | None = None) -> None:
    """Rewrite the generated folder (atomically) and add template files that are missing;
    never touch an existing user file."""
    root = project.root
    gen = project.generated_dir
    replace_dir(gen, lambda tmp: write_generated(project, model_bytes, tmp), force=True)
    ctx = _template_context(project)
    _render_dir(templates_dir() / project.config.framework, root, ctx, skip_existing=True)
    _render_dir(templates_dir() / "common", root, ctx, skip_existing=True)
    if new_model:
        rel, data = new_model
        target = root / rel
        if target.exists() and target.read_bytes() != data:
            raise OutputExistsError(f"{target} exists with different contents; not overwriting your model file",
                                    hint="remove or rename it, then run the command again")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if new_config:
        (root / PROJECT_FILE).write_text(_config_yaml(project.config))


def _config_yaml(cfg: ProjectConfig) -> str:
    head = ("# mcuforge project settings. `mcuforge update` regenerates the generated folder from these;\n"
            "# edit `model`, `board` or `place` here, then run `mcuforge update`. `profile: true` compiles in the\n"
            "# per-operator profile (`mcuforge test --profile`; costs 4 B of RAM and one counter read per operator).\n")
    onnx_default = cfg.onnx_numerics == "onnxruntime" and cfg.ort_threads is None  # not shown for .tflite
    data = cfg.model_dump(exclude={"sensor", *(("onnx_numerics", "ort_threads") if onnx_default else ())})
    text = head + yaml.safe_dump(data, sort_keys=False)
    if cfg.sensor is not None:
        if cfg.sensor.kind == "camera":
            text += ("# Camera → model input (docs/sensors.md, Camera): frames of `camera.width` × `height` in\n"
                     "# `camera.format` are cropped (`crop`: center, none or [x, y, w, h]), resized (`resize`:\n"
                     "# bilinear or nearest) to the input's size, converted to its channels; each 8-bit value is\n"
                     "# scaled, y = (v - offset) * scale (default [0, 1]), clipped to `clip` and quantized with the\n"
                     "# model input's own scale and zero point. `rate_hz`: frames per second of a live camera.\n")
            dump = cfg.sensor.model_dump(exclude={"channels", "units", "window", "hop", "layout", "features"})
        else:
            text += ("# Sensor → model input (see `mcuforge new --help`, docs/sensors.md): samples of `channels` (in\n"
                     "# `units`) at `rate_hz` — the rate the model was trained at — go into a ring buffer; every\n"
                     "# `hop` samples the latest `window` are scaled, y = (x - offset) * scale, clipped to `clip`,\n"
                     "# laid out (`layout`) and quantized with the model input's own scale and zero point.\n")
            dump = cfg.sensor.model_dump(exclude={"camera"})
        text += yaml.safe_dump({"sensor": dump}, sort_keys=False)
    return text


def _default_prefix(model: Path) -> str:
    import re

    stem = re.sub(r"[^A-Za-z0-9_]", "_", model.stem).lower().strip("_") or "model"
    if stem[0].isdigit():
        stem = "m_" + stem
    return stem[:24].rstrip("_") if not stem.startswith("mcf_") else "model"


__all__ = ["PROJECT_FILE", "Project", "ProjectConfig", "load_config", "new_project", "update_project"]
