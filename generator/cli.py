"""The `mcuforge` command line. Thin commands: each parses options and calls one library function.

Errors: libraries raise McuforgeError subclasses; `main()` turns them into one line on stderr
("error: …", then "Hint: …") and exit status 2. Tracebacks only with -vv.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from . import __version__, ui
from .errors import McuforgeError
from .farm_cli import COORDINATOR_HELP, PLACE_HELP, PLACES_HELP, farm_app

if TYPE_CHECKING:
    from .ops.conv_fsum import FloatConvs

app = typer.Typer(
    name="mcuforge",
    help="Compile quantized .tflite models to static C and run them on microcontrollers.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(farm_app, name="farm")

ModelArg = Annotated[Path, typer.Argument(help="Quantized .tflite or .onnx model.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
OnnxNumericsOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--onnx-numerics", help="ONNX convolutions onnxruntime runs in float: 'onnxruntime' (bit-exact, the "
    "default) or 'integer' (integer kernels at full speed; may differ by a step).", show_default=False)]
OrtThreadsOpt = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--ort-threads", min=1, help="onnxruntime intra-op threads the float convolutions are reproduced for "
    "(default: MCUFORGE_ORT_THREADS, else this machine's cores).", show_default=False)]


def _version(value: bool) -> None:
    if value:
        ui.out.print(f"mcuforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="-v: debug output, -vv: tracebacks.")] = 0,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version.")] = False,
) -> None:
    ui.Verbosity.level = verbose


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


# ---- model → C ----------------------------------------------------------------------------------

def _onnx_settings(numerics: str | None, threads: int | None) -> contextlib.AbstractContextManager[None]:
    """onnx_numerics / ort_threads for the commands that compile (ops/conv_fsum.py)."""
    from .errors import UsageError
    from .ops.conv_fsum import NUMERICS, onnx_settings

    if numerics is not None and numerics not in NUMERICS:
        raise UsageError(f"--onnx-numerics must be one of {', '.join(NUMERICS)}, not '{numerics}'")
    return onnx_settings(numerics, threads)


def _float_convs(model: Path) -> FloatConvs | None:
    """An ONNX model's convolutions onnxruntime runs in float, and how they are compiled."""
    from .frontends import model_format, read_model
    from .ops.conv_fsum import float_convs

    return float_convs(read_model(model)) if model_format(model) == "onnx" else None


@app.command()
def inspect(model: ModelArg, as_json: JsonOpt = False, onnx_numerics: OnnxNumericsOpt = None,
            ort_threads: OrtThreadsOpt = None) -> None:
    """Show the model op by op: shapes, MACs, weights, support, and the memory it needs.
    Exits 2 when the model cannot be compiled (the report is printed all the same)."""
    from .errors import UnsupportedModelError
    from .inspect_model import grouped_refusals, inspect_path

    with _onnx_settings(onnx_numerics, ort_threads):
        rep = inspect_path(model)
        fconv = _float_convs(model)
    if as_json:
        _print_json({**rep.to_json(), **({"float_convs": asdict(fconv)} if fconv else {})})
    else:
        t = Table(title=f"{rep.model}  (sha256 {rep.sha256[:12]}…)", title_justify="left")
        for col, just in (("#", "right"), ("op", "left"), ("inputs", "left"), ("outputs", "left"),
                          ("MACs", "right"), ("weights B", "right"), ("supported", "left")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for r in rep.ops:
            t.add_row(str(r.index), r.op, " ".join(map(str, r.inputs)), " ".join(map(str, r.outputs)),
                      f"{r.macs:,}" if r.macs is not None else "-", f"{r.weight_bytes:,}",
                      "yes" if r.supported else "[red]no[/red]")
        ui.out.print(t)
        for line in grouped_refusals(rep):
            ui.out.print(f"not supported: {line}", markup=False)
        for kind, rows in (("input", rep.inputs), ("output", rep.outputs)):
            for io in rows:
                q = f"scale {io.scale:.6g}, zero point {io.zero_point}" if io.scale is not None else "not quantized"
                ui.out.print(f"{kind} {io.name!r}: {io.dtype} {io.shape}, {q}")
        arena = f"{rep.arena_bytes:,} B" if rep.arena_bytes is not None else "n/a (unsupported)"
        ui.out.print(f"weights {rep.weights_bytes:,} B · MACs {rep.macs:,} · planned arena {arena} · "
                     f"live-tensor bound {rep.lower_bound_bytes:,} B{_below(rep.arena_bytes, rep.lower_bound_bytes)}")
        for line in rep.overlaps:
            ui.out.print(f"  {line}", markup=False)
        if rep.no_code:
            ui.out.print("no code, no RAM: " + "; ".join(rep.no_code), markup=False)
        if rep.state_bytes:
            ui.out.print(f"state {rep.state_bytes:,} B kept across invokes (variables)", markup=False)
        if fconv:
            ui.out.print(fconv.describe(), markup=False)
    if not rep.supported:
        raise UnsupportedModelError(f"{rep.model} cannot be compiled: " + "; ".join(rep.problems))


@app.command()
def compile(
    model: ModelArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the C library into.")],
    prefix: Annotated[str, typer.Option(help="C identifier prefix for the generated API.")] = "model",
    separate_io: Annotated[bool, typer.Option("--separate-io", help="Keep inputs/outputs in their own buffer "
                                              "(inputs survive invoke; costs their bytes).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace the output folder if it exists.")] = False,
    fast_scratch: Annotated[bool, typer.Option("--fast-scratch", help="Let kernel scratch grow the arena so "
                                               "every fast path runs (default: only when it costs no RAM).")] = False,
    hot_weights: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--hot-weights", help="Mark the constants of the N layers read most per byte with MCF_HOT_WEIGHTS_ATTR "
        "(define it to place them, e.g. in a RAM section copied at startup).")] = None,
    onnx_numerics: OnnxNumericsOpt = None,
    ort_threads: OrtThreadsOpt = None,
) -> None:
    """Generate a self-contained C99 library (model, weights, kernels) from a .tflite or .onnx model."""
    from .codegen import check_prefix, generate, write_library
    from .compiler import compile_graph
    from .errors import OutputExistsError
    from .frontends import read_model
    from .weights import hot_layers

    check_prefix(prefix)
    if output.exists() and not force:  # fail before the (slow) compile, not after
        raise OutputExistsError(f"output folder already exists: {output}", hint="pass --force to replace it")
    with _onnx_settings(onnx_numerics, ort_threads):
        cm = compile_graph(read_model(model), separate_io=separate_io, scratch_may_grow_arena=fast_scratch)
    hot = hot_layers(cm, hot_weights) if hot_weights is not None else ()
    lib = generate(cm, prefix, hot_ops=hot)
    write_library(lib, output, force=force)
    m = lib.manifest
    ui.info(f"wrote {len(lib.files)} files to {output}: arena {m['arena_bytes']:,} B "
            f"(live-tensor bound {m['lower_bound_bytes']:,} B{_below(m['arena_bytes'], m['lower_bound_bytes'])}), "
            f"constants {m['const_bytes']:,} B, {m['macs']:,} MACs")
    for u in cm.overlaps:
        ui.info(f"  operator {u.op_index} {u.opcode}: output {u.describe()}")
    if cm.float_convs:
        ui.info(cm.float_convs.describe())
    if hot:
        ui.info(f"hot weights (MCF_HOT_WEIGHTS_ATTR): operators {', '.join(map(str, hot))}, "
                f"{m['hot_const_bytes']:,} B")


def _below(arena: int | None, bound: int) -> str:
    """', N B below it: outputs over dying inputs' when the plan beats the live-tensor bound."""
    if arena is None or arena >= bound:
        return ""
    return f"; {bound - arena:,} B below it: outputs over dying inputs"


@app.command()
def validate(
    model: ModelArg,
    inputs: Annotated[int, typer.Option("--inputs", min=1, help="Number of random inputs.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed for the inputs.")] = 0,
    input_file: Annotated[Optional[list[Path]],  # noqa: UP045
                          typer.Option("--input", help=".npy input tensor(s); repeatable.")] = None,
    as_json: JsonOpt = False,
    onnx_numerics: OnnxNumericsOpt = None,
    ort_threads: OrtThreadsOpt = None,
) -> None:
    """Build the generated C for this host and compare it with TFLite Micro (.tflite) or onnxruntime
    (.onnx), bit for bit."""
    from .validate import validate_model

    try:
        with _onnx_settings(onnx_numerics, ort_threads):  # the C and the onnxruntime reference alike
            res = validate_model(model, count=inputs, seed=seed, input_files=input_file)
    except McuforgeError as exc:
        if as_json:  # machine readers get a JSON object too, then the usual error line and status
            _print_json({"model": str(model), "error": exc.message, "hint": exc.hint})
        raise
    if as_json:
        _print_json(res.to_json())
    else:
        for o in res.outputs:
            ui.out.print(f"output {o.name!r}: {o.bit_exact}/{res.inputs} bit-exact, max abs diff {o.max_abs_diff:g}"
                         f" ({o.max_steps:g} steps), {o.differing_elements}/{o.elements} elements differ, "
                         f"top-1 agrees {o.top1_agree}/{res.inputs}", markup=False)
        for line in res.intermediate.describe() if res.intermediate else []:
            ui.out.print(line, markup=False)
        if res.state_bytes:
            ui.out.print(f"stateful model ({res.state_bytes:,} B of state): the {res.inputs} inputs ran as one stream, "
                         f"each inference from the state the previous one left; state after {res.state_bit_exact}/"
                         f"{res.inputs} inferences bit-exact with TFLite Micro's", markup=False)
        if res.tolerance_steps:
            ui.out.print(f"onnxruntime computes some of this model's operators in float: differences of up to "
                         f"{res.tolerance_steps} step with the same top-1 pass", markup=False)
        if res.note:
            ui.out.print(res.note, markup=False)
        ui.out.print(f"{res.model}: {res.bit_exact}/{res.inputs} inferences bit-exact with {res.reference} · "
                     f"arena {res.arena_bytes:,} B (live-tensor bound {res.lower_bound_bytes:,} B"
                     f"{_below(res.arena_bytes, res.lower_bound_bytes)}) · "
                     f"weights {res.weights_bytes:,} B")
    if not res.ok:
        raise typer.Exit(1)


@app.command()
def convert(
    model: ModelArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The .tflite file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Write the model's integer graph (as mcuforge compiles it) as a standard int8 .tflite."""
    from .compiler import compile_graph
    from .errors import OutputExistsError
    from .exporters import write_file, write_tflite
    from .frontends import read_model
    from .frontends.tflite import parse_model

    if output.exists() and not force:  # fail before the work, not after
        raise OutputExistsError(f"output file already exists: {output}", hint="pass --force to replace it")
    graph = read_model(model)
    compile_graph(graph)  # only what mcuforge compiles is written, so the file equals its C build
    written = write_tflite(graph)
    parse_model(written.data, output.name)  # the written file reads back
    write_file(output, written.data, force=force)
    ui.info(f"wrote {output}: {len(written.data):,} B, "
            f"{len(graph.operators) + written.pads_added + 2 * written.tables} operators"
            + (f" ({written.pads_added} PAD in front of explicitly padded operators)" if written.pads_added else ""))
    if written.inexact:
        ops = ", ".join(f"#{i} {opcode}" for i, opcode in written.inexact)
        ui.warning(f"not bit-exact with onnxruntime: {ops} requantize (ADD / SUB / MUL: compute; RESIZE_BILINEAR: "
                   "interpolate) in float32 in onnxruntime (and in mcuforge's C for this .onnx); in the .tflite they "
                   "use TFLite's fixed-point "
                   "arithmetic, which rounds some results one step differently")


# ---- boards and projects -------------------------------------------------------------------------

BoardDirOpt = Annotated[Optional[list[Path]], typer.Option("--board-dir", help="Extra folder of board YAML files "  # noqa: UP045
                                                           "(also $MCUFORGE_BOARD_PATH).")]
ProjectArg = Annotated[Path, typer.Argument(help="Project folder.")]


def _size(n: int) -> str:
    return f"{n // (1 << 20)} MiB" if n % (1 << 20) == 0 else f"{n // 1024} KiB" if n % 1024 == 0 else f"{n} B"


@app.command()
def boards(board_dir: BoardDirOpt = None, as_json: JsonOpt = False) -> None:
    """List the boards mcuforge knows: core, clock, memory regions, frameworks."""
    from .boards import list_boards

    found = list_boards(board_dir or [])
    if as_json:
        _print_json([{"id": b.id, "name": b.name, "core": b.cpu.core, "clock_hz": b.clock_hz,
                      "frameworks": list(b.frameworks), "emulated": b.emulator is not None,
                      "memory": [{"name": r.name, "kind": r.kind, "base": r.base, "size": r.size}
                                 for r in b.memory]} for b in found])
        return
    t = Table()
    for col in ("board", "core", "clock", "flash", "RAM regions (fastest first)", "frameworks"):
        t.add_column(col)
    for b in found:
        flash = b.flash_region()
        t.add_row(b.id + (" (emulated)" if b.emulator else ""), b.cpu.core, f"{b.clock_hz / 1e6:g} MHz",
                  _size(flash.size) if flash else "-",
                  ", ".join(f"{r.name} {_size(r.size)}" for r in b.ram_regions()), ", ".join(b.frameworks))
    ui.out.print(t)


@app.command()
def new(
    project: ProjectArg,
    model: Annotated[Path, typer.Option("--model", "-m", help="Quantized .tflite or .onnx model.")],
    board: Annotated[str, typer.Option("--board", "-b", help="Board id (see `mcuforge boards`).")],
    framework: Annotated[Optional[str], typer.Option(help="zephyr, platformio or cmake "  # noqa: UP045
                                                     "(default: the board's).")] = None,
    place: Annotated[Optional[list[str]], typer.Option("--place", help="BUFFER=REGION, e.g. arena=dtcm; "  # noqa: UP045
                                                       "buffers: arena, io, weights. (Memory placement; the board "
                                                       "farm's --place belongs to flash/run/test/bench.)")] = None,
    prefix: Annotated[Optional[str], typer.Option(help="C prefix of the model API "  # noqa: UP045
                                                  "(default: from the model file name).")] = None,
    board_dir: BoardDirOpt = None,
    sensor: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--sensor", help="Generate the sensor → input-tensor glue: KIND[:PART] of a board sensor "
        "(accelerometer, gyroscope, imu, magnetometer, camera, …), or serial / replay[:KIND] for samples or "
        "frames (replay:camera) streamed by the host. Defaults (rate, channels, window, hop, scaling) go to "
        "mcuforge.yaml's `sensor:`.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Regenerate into an existing project folder; "
                                        "your own files are kept.")] = False,
    profile: Annotated[bool, typer.Option("--profile", help="Compile in the per-operator profile (MCF_PROFILE=1, "
                                          "`profile: true` in mcuforge.yaml) for `mcuforge test --profile`: "
                                          "4 B of RAM and one counter reading per operator.")] = False,
    hot_weights: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--hot-weights", help="Move only the weights of the N layers read most per byte to the region of "
        "--place weights=REGION (a RAM region: copied from flash at startup); the rest stays in flash.")] = None,
) -> None:
    """Create a project for a board: model, runtime and a main() that proves the build."""
    from .scaffold import new_project, soft_float_warning

    p = new_project(project, model, board, framework=framework, place=place or [], prefix=prefix, force=force,
                    board_dirs=[str(d) for d in board_dir or []], sensor=sensor, profile=profile,
                    hot_weights=hot_weights)
    pl = p.placement
    copied = pl.sizes.get("weights_copied", 0)
    weights = (f"constants {pl.sizes['weights']:,} B in {pl.regions['weights']}" if not copied else
               f"constants {pl.sizes['weights']:,} B in flash, {copied:,} B of them copied to {pl.regions['weights']} "
               f"at startup" + (f" (the {len(p.library.manifest['hot_ops'])} hottest layers)"
                                if p.library.manifest.get("hot_ops") else ""))
    ui.info(f"created {p.config.framework} project {project} for {p.board.id}: arena {pl.sizes['arena']:,} B in "
            f"{pl.regions['arena']}, {weights}")
    if p.pipeline is not None:
        ui.info(f"sensor pipeline: {p.pipeline.describe()}")
    if (note := soft_float_warning(p)) is not None:
        ui.warning(note)
    ui.info(f"next: mcuforge build {project}")


@app.command()
def update(project: Annotated[Path, typer.Argument(help="Project folder.")] = Path(".")) -> None:
    """Regenerate the project's generated folder from mcuforge.yaml and the model; your files stay."""
    from .scaffold import soft_float_warning, update_project

    p = update_project(project)
    ui.info(f"regenerated {p.generated_dir} from {p.config.model}")
    if (note := soft_float_warning(p)) is not None:
        ui.warning(note)


@app.command()
def build(
    project: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    env: Annotated[Optional[str], typer.Option("--env", "-e", help="PlatformIO env "  # noqa: UP045
                                               "(default: the board's).")] = None,
    as_json: JsonOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the build tool's whole log "
                                          "(as `mcuforge -v build`).")] = False,
) -> None:
    """Build with the project's own tool (cmake+ninja, west, pio) and report memory per region; the
    compiler's warnings are shown, the rest of the log only with -v."""
    from .build import build_project

    if verbose:
        ui.Verbosity.level = max(ui.Verbosity.level, 1)
    with ui.err.status("building…") as status:
        def show(line: str) -> None:
            ui.debug(line)
            status.update(f"building… {line[-100:]}")

        res = build_project(project, on_line=show, env_name=env)
    if res.warnings:
        if ui.Verbosity.level == 0:  # with -v they are in the log above
            for text in res.warnings:
                ui.info(text)
        ui.warning(f"the build succeeded with {len(res.warnings)} compiler/linker warning"
                   f"{'s' if len(res.warnings) > 1 else ''}")
    rep = res.report
    if rep is None:
        ui.info(f"built {res.elf} (a host program: no board memory report)")
        return
    if as_json:
        _print_json(rep.to_json())
        return
    t = Table(title=f"{res.elf}")
    for col, j in (("region", "left"), ("kind", "left"), ("used", "right"), ("size", "right"), ("%", "right")):
        t.add_column(col, justify=j)  # type: ignore[arg-type]
    for r in rep.regions:
        t.add_row(r.name, r.kind, f"{r.used:,}", f"{r.size:,}", f"{r.percent:.1f}")
    ui.out.print(t)
    for label, sym in rep.symbols.items():
        ui.out.print(f"{label}: {sym.name} at 0x{sym.address:08x}, {sym.size:,} B, in {sym.region or 'no region'}")
    if "mcuforge_model" in res.zephyr_modules:  # Zephyr: the generated folder is a module of the build
        on = [k.removeprefix("CONFIG_") for k, v in res.mcuforge_options.items() if v == "y"]
        others = ", ".join(n for n in res.zephyr_modules if n != "mcuforge_model") or "no other modules"
        ui.out.print(f"zephyr module mcuforge_model at {res.zephyr_modules['mcuforge_model']} (with {others}); "
                     f"on: {', '.join(on)}")
    for option, bound in res.stacks.items():  # Zephyr: stack sizes from -fstack-usage, written to prj.conf
        size = res.stack_sizes.get(option)
        ui.out.print(f"stack {option}={size if size is not None else '?'} (bound {bound.describe()})")


# ---- device: flash, run, test ----------------------------------------------------------------------

PortOpt = Annotated[Optional[str], typer.Option("--port", "-p", help="Serial port or pyserial URL (socket://, "  # noqa: UP045
                                                "rfc2217://), or `native`: a PlatformIO project's host program "
                                                "(pio run -e native); default: the board's USB id, or its "
                                                "emulator.")]
FarmPlaceOpt = Annotated[Optional[str], typer.Option("--place", help=PLACE_HELP, rich_help_panel="Board farm")]  # noqa: UP045
CoordinatorOpt = Annotated[Optional[str], typer.Option("--coordinator", help=COORDINATOR_HELP,  # noqa: UP045
                                                       rich_help_panel="Board farm")]


@app.command()
def flash(project: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
          port: PortOpt = None, place: FarmPlaceOpt = None, coordinator: CoordinatorOpt = None) -> None:
    """Program the board (west flash, pio upload); for an emulated board, start its emulator and
    serve its UART on a socket:// URL until Ctrl-C. With --place: flash a board-farm place."""
    from .flash import flash_project

    if place is not None:
        from .farm_cli import flash_on_place

        flash_on_place(project, place, coordinator)
        return
    for line in flash_project(project, port=port):
        ui.info(line)


@app.command()
def run(
    project: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    port: PortOpt = None,
    count: Annotated[int, typer.Option("--count", "-n", min=0, help="Inferences to run; 0 = until Ctrl-C.")] = 0,
    input_file: Annotated[Optional[Path], typer.Option("--input", help=".npy input (default: random inputs).")] = None,  # noqa: UP045
    top_k: Annotated[int, typer.Option(help="Classes to show for classifier outputs.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the random inputs.")] = 0,
    place: FarmPlaceOpt = None,
    coordinator: CoordinatorOpt = None,
) -> None:
    """Run inferences on the device and print outputs (dequantized, top-k) and latency, live."""
    import itertools
    from contextlib import nullcontext

    import numpy as np

    from mcuforge.hil.session import open_session

    from .farm_cli import place_port
    from .validate import load_input_files, random_inputs

    with (place_port(project, place, coordinator) if place else nullcontext(port)) as port, \
            open_session(project, port=port, on_log=lambda t: ui.info(f"device: {t}")) as s:
        ui.info(f"connected to {s.board.id} at {s.url}: engine {s.info.engine}, arena {s.info.arena_bytes:,} B")
        fixed = load_input_files(s.graph, [input_file]) if input_file else None
        for k in itertools.count():
            if count and k >= count:
                break
            inputs = fixed[k % len(fixed)] if fixed else random_inputs(s.graph, 1, seed + k)[0]
            res = s.device.infer(inputs, reset_state=k == 0)  # a stateful model: one stream from its initial state
            parts = []
            for t_index, out in zip(s.graph.outputs, res.outputs, strict=True):
                t = s.graph.tensors[t_index]
                real = (out.astype(np.float64) - t.zero_point) * t.scale if t.quant else out.astype(np.float64)
                flat = real.reshape(-1)
                if 2 <= flat.size <= 1000:
                    top = np.argsort(-flat, kind="stable")[:top_k]
                    parts.append("top: " + ", ".join(f"#{i} {flat[i]:.3f}" for i in top))
                else:
                    shown = " ".join(f"{v:.3g}" for v in flat[:8])
                    parts.append(f"{t.name}: {shown}" + (" …" if flat.size > 8 else ""))
            ui.out.print(f"[{k}] {res.elapsed:,} {res.unit}  " + "  ".join(parts), markup=False)


@app.command()
def test(
    projects: Annotated[Optional[list[Path]], typer.Argument(  # noqa: UP045
        help="Project folder (default: the current one); several with --place.", show_default=False)] = None,
    port: PortOpt = None,
    vectors: Annotated[Optional[Path], typer.Option(help="Folder of .npy/.npz input vectors.")] = None,  # noqa: UP045
    random: Annotated[int, typer.Option("--random", min=0, help="Random vectors (default 5 without --vectors).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the random vectors.")] = 0,
    tolerance: Annotated[float, typer.Option(help="Largest allowed abs difference in quantized units.")] = 0.0,
    junit: Annotated[Optional[Path], typer.Option(help="Write a JUnit XML report here.")] = None,  # noqa: UP045
    replay: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--replay", help="Stream a recording (.csv with a header naming the channels, .npy [samples, channels], "
        ".wav; camera pipelines: .npy frames, uint8 [N, H, W, bytes per pixel] or uint16 RGB565 [N, H, W]) "
        "through the device's sensor pipeline: each window's input tensor must equal the host pipeline's, its "
        "outputs TFLite Micro's.")] = None,
    profile: Annotated[bool, typer.Option("--profile", help="After the vectors, the per-layer profile of the last "
                                          "one: ticks per operator (firmware built with `profile: true`).")] = False,
    as_json: JsonOpt = False,
    place: FarmPlaceOpt = None,
    places: Annotated[int, typer.Option("--places", min=1, help=PLACES_HELP, rich_help_panel="Board farm")] = 1,
    coordinator: CoordinatorOpt = None,
) -> None:
    """Send vectors to the device, compare every output with the reference (TFLite Micro for a
    .tflite model, onnxruntime for an .onnx one), report; exit 1 on a failure.
    With --place (and --places N): the vectors of every project given, spread over board-farm places."""
    import time
    from contextlib import nullcontext

    from mcuforge.hil.runner import TestReport, load_vectors, random_vectors, replay_plan, run_replay, run_vectors
    from mcuforge.hil.session import open_session

    from .elf_report import memory_report
    from .errors import UsageError
    from .scaffold import GENERATED_DIR

    if place is None and places > 1:
        raise UsageError("--places N picks N places matching --place", hint="add --place PATTERN")
    if place is not None and replay is None and not profile:
        from .farm_cli import test_on_places

        if not test_on_places(projects or [Path(".")], place, places, coordinator, vectors=vectors, random=random,
                              seed=seed, tolerance=tolerance, junit=junit, as_json=as_json):
            raise typer.Exit(1)
        return
    if len(projects or []) > 1:
        raise UsageError("several projects are tested together on a board farm only", hint="add --place PATTERN")
    if place is not None and places > 1:
        raise UsageError("--replay and --profile run on one place", hint="drop --places")
    project = (projects or [Path(".")])[0]
    plan = None
    if replay is not None:
        if vectors is not None or random:
            raise UsageError("--replay streams a recording; it does not combine with --vectors or --random")
        plan = replay_plan(project, replay)  # a bad recording stops here, before anything is sent
    replay_seconds = 0.0
    from .farm_cli import place_port

    with (place_port(project, place, coordinator) if place else nullcontext(port)) as port, \
            open_session(project, port=port) as s:
        if profile and not s.info.hello.has_profile:
            from mcuforge.hil.device import PROFILE_HINT, ProfileUnavailable

            raise ProfileUnavailable(f"--profile: the firmware of {s.root.name} records no per-operator profile "
                                     "(built without MCF_PROFILE=1)", hint=PROFILE_HINT)
        vecs = load_vectors(s.graph, vectors) if vectors else []
        if plan is None and (random or not vectors):
            vecs += random_vectors(s.graph, random or 5, seed)
        report = TestReport(s.config.model, s.graph.sha256, s.board.id, s.url, tolerance)
        if s.elf.is_file() and not s.native:  # a host program (--port native) has no board memory
            info = json.loads((s.root / GENERATED_DIR[s.config.framework] / "mcuforge_build.json").read_text())
            report.memory = memory_report(s.elf, s.board, {k: v for k, v in info["symbols"].items() if v}).to_json()

        def show(v: object) -> None:
            from mcuforge.hil.runner import VectorResult

            assert isinstance(v, VectorResult)
            if not as_json:
                mark = "[green]pass[/green]" if v.passed else "[red]FAIL[/red]"
                lat = f"{v.elapsed:,} {v.unit}" if v.elapsed is not None else "-"
                diff = f"{v.max_abs_diff:g}" if v.max_abs_diff is not None else "-"
                ui.out.print(f"{mark}  {v.name:<24} max abs diff {diff:>4}  latency {lat}"
                             + (f"  retries {v.retries}" if v.retries else "") + (f"  {v.error}" if v.error else ""))

        if plan is not None:
            pipeline, samples = plan
            if not as_json:
                what = "frames" if pipeline.camera is not None else "samples"
                ui.info(f"replaying {len(samples):,} {what} of {replay}: {pipeline.describe()}")
            started = time.monotonic()
            run_replay(s.device, s.model_bytes, pipeline, samples, report, on_result=show)
            replay_seconds = time.monotonic() - started
        else:
            run_vectors(s.device, s.graph, s.model_bytes, vecs, report, on_result=show)
        prof = None
        if profile and report.vectors and report.vectors[-1].elapsed is not None:
            from mcuforge.hil.profile import ProfileRun, compiled_for_project, layer_rows

            got = s.device.profile()
            last = report.vectors[-1]
            prof = ProfileRun(layer_rows(compiled_for_project(s.root, s.config.framework, s.graph), got.ticks),
                              got.unit, int(last.elapsed), model=s.config.model, board=s.board.id)
            report.profile = prof.to_json()
    if junit:
        report.write_junit(junit)
    if as_json:
        _print_json(report.to_json())
    else:
        if plan is not None:
            n = len(plan[1])
            what = "frames" if plan[0].camera is not None else "samples"
            rate = f"{n / max(replay_seconds, 1e-9):,.2f}" if plan[0].camera is not None else \
                f"{n / max(replay_seconds, 1e-9):,.0f}"
            ui.out.print(f"{report.passed}/{len(report.vectors)} {'frames' if what == 'frames' else 'windows'}: device "
                         f"input tensors bit-exact with the host pipeline, outputs "
                         + (f"within {tolerance:g} of" if tolerance else "bit-exact with")
                         + f" TFLite Micro on {report.board} ({n:,} {what} streamed in {replay_seconds:.2f} s, "
                         f"{rate} {what}/s)")
        else:
            ui.out.print(f"{report.passed}/{len(report.vectors)} vectors bit-exact"
                         + (f" within {tolerance:g}" if tolerance else "") + f" on {report.board}"
                         + (" (a stateful model: one stream, the state reset before the first vector and "
                            "carried from each to the next, as in TFLite Micro)" if report.stream else ""))
        if report.memory:
            for r in report.memory["regions"]:
                if r["used"]:
                    ui.out.print(f"  {r['name']:<10} {r['used']:>10,} / {r['size']:,} B ({r['percent']:.1f}%)")
        if prof is not None:
            from mcuforge.hil.profile import render_table

            ui.out.print(render_table(prof, title=f"per-layer profile of {report.vectors[-1].name}"))
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def bench(
    models: Annotated[Optional[list[Path]], typer.Argument(  # noqa: UP045
        help="Models to benchmark (default: the reference models in ../shared/models or "
             "$MCUFORGE_MODELS_DIR).", show_default=False)] = None,
    board: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--board", "-b", help="Emulated board; repeatable (default: mps2_an386).")] = None,
    vectors: Annotated[int, typer.Option("--vectors", "-n", min=1, help="Random vectors per firmware.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the random vectors.")] = 0,
    peer_elf: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--peer-elf", help="NAME=PATH: a firmware built elsewhere (e.g. TensorFlow Lite Micro) running model "
        "NAME (file stem, or MODEL@BOARD) at boot and printing `instructions=N` per inference on its UART; "
        "measured in the same emulator.")] = None,
    vs: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--vs", help="tflm: also TensorFlow Lite Micro (reference and CMSIS-NN kernels), built by its own Makefile "
        "from --tflm-dir, on the same vectors in the same emulator; ours / TFLM ratios, flash and RAM.")] = None,
    tflm_dir: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--tflm-dir", help="TensorFlow Lite Micro tree for --vs tflm (default: $MCUFORGE_TFLM_DIR).")] = None,
    framework: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--framework", help="Connected boards: the flavor to build and flash (default: the board's own); "
        "emulated boards always use the bare-metal cmake flavor.")] = None,
    port: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--port", help="Connected board: its serial port or URL (default: found by USB VID:PID).")] = None,
    per_layer: Annotated[bool, typer.Option(
        "--per-layer", help="Also profile each operator (a build with MCF_PROFILE=1, first vector), beside "
        "TFLite Micro's operators with --vs tflm.")] = False,
    workdir: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Keep the generated projects here (default: a temporary folder).")] = None,
    as_json: JsonOpt = False,
    place: FarmPlaceOpt = None,
    coordinator: CoordinatorOpt = None,
) -> None:
    """Instructions per inference on emulated boards (cycles on a connected board, flashed by the
    bench): optimized kernels vs their portable reference loops (-DMCF_PORTABLE_KERNELS), both checked
    bit-exact against TFLite Micro; exit 1 if not."""
    import os

    from mcuforge.hil.bench import parse_peers, per_layer_tables, run_bench, tflm_tables
    from mcuforge.hil.tflm_peer import NO_TREE_MESSAGE, tflm_tree

    from .errors import UsageError

    if vs not in (None, "tflm"):
        raise UsageError(f"--vs {vs}: the only peer mcuforge builds is tflm", hint="--vs tflm --tflm-dir PATH")
    if vs == "tflm" and tflm_tree(tflm_dir) is None:
        ui.warning(NO_TREE_MESSAGE)
    if not models:
        folder = Path(os.environ.get("MCUFORGE_MODELS_DIR", Path.cwd().parent / "shared" / "models"))
        models = sorted(folder.glob("*.tflite")) if folder.is_dir() else []
        if not models:
            raise UsageError(f"no models given and none found in {folder}",
                             hint="pass model files, e.g. mcuforge bench model.tflite, or set MCUFORGE_MODELS_DIR")
    for m in models:
        if not m.is_file():
            raise UsageError(f"model not found: {m}")
    device, slots = None, None
    if place is not None:  # each firmware measured on a free board-farm place of its board; in parallel
        if peer_elf or vs or per_layer or port:
            raise UsageError("--place measures mcuforge's own builds on farm places",
                             hint="drop --peer-elf, --vs, --per-layer and --port")
        from .farm_cli import bench_on_places

        board, device, slots = bench_on_places(place, coordinator, board)
    with ui.err.status("benchmarking…") as status:
        def show(line: str) -> None:
            ui.debug(line)
            status.update(f"benchmarking… {line[-100:]}")

        rep = run_bench(models, board or ["mps2_an386"], vectors=vectors, seed=seed, workdir=workdir,
                        peers=parse_peers(peer_elf or []), vs_tflm=vs == "tflm", tflm_dir=tflm_dir,
                        per_layer=per_layer, framework=framework, port=port, on_progress=show, device=device,
                        device_slots=slots)
    if as_json:
        _print_json(rep.to_json())
    else:
        has_peer = any(r.peer is not None for r in rep.rows)
        units = sorted({r.optimized.unit for r in rep.rows if r.optimized.unit}) or ["instructions"]
        where = "QEMU -icount" if units == ["instructions"] else "instructions under QEMU -icount, cycles on a device"
        t = Table(title=f"{' / '.join(units)} per inference ({where}), median over "
                        f"{vectors} vector{'s' if vectors > 1 else ''}", title_justify="left")
        cols = [("model", "left"), ("board", "left"), ("MACs", "right"), ("optimized", "right"),
                ("portable", "right"), ("speed-up", "right"), ("MACs/instr", "right"),
                ("arena / bound B", "right"), ("flash opt / port B", "right")]
        if has_peer:
            cols += [("peer", "right"), ("peer / ours", "right")]
        cols.append(("bit-exact", "left"))
        for col, just in cols:
            t.add_column(col, justify=just)  # type: ignore[arg-type]

        def num(v: int | None) -> str:
            return f"{v:,}" if v is not None else "-"

        for r in rep.rows:
            cells = [r.model, r.board, f"{r.macs:,}", num(r.optimized.median), num(r.portable.median),
                     f"{r.speedup:.2f}x" if r.speedup else "-",
                     f"{r.macs_per_instruction:.3f}" if r.macs_per_instruction else "-",
                     f"{r.arena_bytes:,} / {r.lower_bound_bytes:,}",
                     f"{r.optimized.flash_model:,} / {r.portable.flash_model:,}"]
            if has_peer:
                peer = r.peer
                cells += [num(peer.median) if peer else "-", f"{r.vs_peer:.2f}x" if r.vs_peer else "-"]
            exact = f"{min(r.optimized.bit_exact, r.portable.bit_exact)}/{r.vectors}"
            cells.append(f"[green]{exact}[/green]" if r.ok else f"[red]{exact}[/red]")
            t.add_row(*cells)
        ui.out.print(t)
        for r in rep.rows:
            if r.peer is not None and r.peer.error:
                ui.warning(f"peer {r.peer.elf} on {r.board}: {r.peer.error}")
        ui.out.print("flash: .text + .rodata of the model library (invoke code, parameters, weights, kernels); "
                     "peer / ours above 1: mcuforge runs fewer instructions")
        for item in [*tflm_tables(rep), *per_layer_tables(rep)]:
            ui.out.print(item)
    if not rep.ok:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except McuforgeError as exc:
        if ui.Verbosity.level >= 2:
            import traceback

            traceback.print_exc()
        ui.error(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        ui.error("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
