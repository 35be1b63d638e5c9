"""Board definitions: what mcuforge knows about a board, loaded from one YAML file per board.

A board file (``<id>.yaml``) describes the CPU, the memory regions a program or a buffer can be
placed in, how the board is targeted by Zephyr, PlatformIO and the bare-metal CMake flavour, its
console UART, the tools that flash it, the USB ids its serial port shows up under, its on-board
sensors and, for emulated boards, the QEMU machine. The models below are the schema: every file is
validated strictly (unknown keys are errors).

Where board files are found (first match wins):

1. the folders passed as ``board_dirs``, in order;
2. the folders listed in the environment variable ``MCUFORGE_BOARD_PATH`` (``os.pathsep``-separated);
3. the built-in ``board_defs/`` folder shipped with mcuforge.

So a user file with the id of a built-in board overrides it. A board file must be named after its
id (``nucleo_f746zg.yaml`` holds ``id: nucleo_f746zg``); ``.yml`` is accepted too, but one folder may
not hold two files for the same id.

Numbers: addresses are integers (hex is fine: YAML reads ``0x20000000`` as an integer) or strings
holding a decimal or ``0x`` number. Sizes accept the same, plus strings with a binary-unit suffix:
``"64K"`` is 64 KiB, ``"2M"`` is 2 MiB, ``"1G"`` is 1 GiB. Clocks and baud rates are plain integers.

Memory regions, and the two questions callers ask:

* ``Board.flash_region()`` is *the* flash region: the one marked ``default: true``, or the only
  region of kind ``flash``. It is ``None`` for a board that loads its program into RAM
  (``qemu_riscv32``); ``Board.image_region()`` answers "where do code and constant data go" for
  every board.
* ``Board.ram_regions()`` lists the writable regions fastest first. The rule: kind ``tcm`` first,
  then ``ccm`` and ``sram`` (same rank), then ``psram`` (external RAM: PSRAM or SDRAM behind a
  memory controller); within a rank the larger region first, then the lower address.
  ``Board.default_ram()`` is the region the default linker setup puts ``.data``/``.bss``/stack in.

Libraries never print: every problem is raised as a `BoardError` subclass carrying one line of
text (file, field path, reason) and, where useful, a hint.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from collections.abc import Iterable, Iterator
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import McuforgeError
from .targets import TargetError, target_for, targets

__all__ = [
    "BOARD_PATH_ENV",
    "Board",
    "BoardDirError",
    "BoardError",
    "BoardFileError",
    "BoardNotFoundError",
    "CMakeFlags",
    "Console",
    "Cpu",
    "Emulator",
    "MemoryRegion",
    "PlatformIOTarget",
    "Sensor",
    "SensorCamera",
    "SensorI2C",
    "SensorZephyr",
    "UnknownRegionError",
    "ZephyrNode",
    "ZephyrTarget",
    "board_ids",
    "board_search_path",
    "builtin_board_dir",
    "list_boards",
    "load_board",
    "load_board_file",
]

#: Environment variable with extra board folders (``os.pathsep``-separated, earlier wins).
BOARD_PATH_ENV = "MCUFORGE_BOARD_PATH"

_BOARD_SUFFIXES = (".yaml", ".yml")
_BOARD_ID_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
_BOARD_ID_RE = re.compile(_BOARD_ID_PATTERN)
_ADDRESS_LIMIT = 1 << 32


# ---- errors --------------------------------------------------------------------------------------


class BoardError(McuforgeError):
    """Base for every board-definition problem."""


class BoardNotFoundError(BoardError):
    """No board file with the requested id in any searched folder."""

    def __init__(self, message: str, hint: str | None = None, suggestions: Iterable[str] = ()) -> None:
        super().__init__(message, hint)
        self.suggestions = list(suggestions)


class BoardFileError(BoardError):
    """A board file cannot be read, is not valid YAML, or does not match the schema."""


class BoardDirError(BoardError):
    """A folder given as a board folder does not exist or is not a folder."""


class UnknownRegionError(BoardError):
    """A memory region name that the board does not have."""


# ---- value parsing -------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^(0[xX][0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*)$")
_SIZE_RE = re.compile(r"^(0[xX][0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*)\s*([KMG]?)$")
_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _parse_address(value: Any) -> Any:
    """Strings holding a decimal or 0x number become ints; everything else goes to pydantic."""
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER_RE.match(text):
            raise ValueError(f"'{value}' is not an address (use an integer such as 0x20000000)")
        return int(text.replace("_", ""), 0)
    return value


def _parse_size(value: Any) -> Any:
    """Like `_parse_address`, plus K/M/G suffixes in binary units ("64K" == 65536)."""
    if isinstance(value, str):
        match = _SIZE_RE.match(value.strip())
        if not match:
            raise ValueError(f"'{value}' is not a size (use bytes, or a number with K, M or G such as 320K)")
        number, unit = match.groups()
        return int(number.replace("_", ""), 0) * _SIZE_UNITS[unit]
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


Address = Annotated[int, BeforeValidator(_parse_address), Field(strict=True, ge=0, lt=_ADDRESS_LIMIT)]
Size = Annotated[int, BeforeValidator(_parse_size), Field(strict=True, gt=0, le=_ADDRESS_LIMIT)]
PositiveInt = Annotated[int, Field(strict=True, gt=0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
UsbId = Annotated[str, BeforeValidator(_lower), Field(pattern=r"^[0-9a-f]{4}:[0-9a-f]{4}$")]
NonEmptyStr = Annotated[str, Field(min_length=1)]

# ---- vocabularies --------------------------------------------------------------------------------

Core = Literal[
    "cortex-m0plus",
    "cortex-m3",
    "cortex-m4",
    "cortex-m7",
    "cortex-m33",
    "cortex-m55",
    "xtensa-lx6",
    "xtensa-lx7",
    "rv32imc",
    "rv32imac",
    "rv32gc",
]
Arch = Literal["arm", "riscv", "xtensa"]
Fpu = Literal["none", "sp", "dp"]
RegionKind = Literal["flash", "sram", "tcm", "ccm", "psram"]
RegionAttribute = Literal["dma-capable", "executable", "cacheable"]
Framework = Literal["zephyr", "platformio", "cmake"]
#: Flashing tools, by their own names. Zephyr's runner for esptool is called ``esp32``; picotool
#: is PlatformIO's upload tool for the Pico (Zephyr uses ``uf2`` there); ``qemu`` means "run in
#: the emulator" and goes with an ``emulator`` section.
Runner = Literal[
    "openocd",
    "jlink",
    "pyocd",
    "stm32cubeprogrammer",
    "nrfjprog",
    "nrfutil",
    "esptool",
    "picotool",
    "uf2",
    "bossac",
    "dfu-util",
    "blackmagicprobe",
    "linkserver",
    "qemu",
]
SensorKind = Literal[
    "accelerometer",
    "gyroscope",
    "imu",
    "magnetometer",
    "microphone",
    "camera",
    "temperature",
    "humidity",
    "pressure",
    "proximity",
]

_CORE_ARCH: dict[str, str] = {
    "cortex-m0plus": "arm",
    "cortex-m3": "arm",
    "cortex-m4": "arm",
    "cortex-m7": "arm",
    "cortex-m33": "arm",
    "cortex-m55": "arm",
    "xtensa-lx6": "xtensa",
    "xtensa-lx7": "xtensa",
    "rv32imc": "riscv",
    "rv32imac": "riscv",
    "rv32gc": "riscv",
}
#: Speed rank of each RAM kind (lower is faster); see the module docstring.
_RAM_RANK: dict[str, int] = {"tcm": 0, "ccm": 1, "sram": 1, "psram": 2}
#: Runner names where `west flash --runner` differs from the tool name; None: no Zephyr runner.
_ZEPHYR_RUNNER: dict[str, str | None] = {"esptool": "esp32", "picotool": None, "qemu": None}
_FRAMEWORK_ORDER: tuple[Framework, ...] = ("zephyr", "platformio", "cmake")


# ---- models --------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cpu(_Model):
    """The CPU core. ``dsp``: SIMD/DSP instructions that optimised kernels use (Arm DSP extension,
    ESP32-S3 vector extension); ``fpu``: none, single precision or double precision."""

    core: Core
    arch: Arch
    fpu: Fpu
    dsp: bool

    @model_validator(mode="after")
    def _arch_matches_core(self) -> Cpu:
        expected = _CORE_ARCH[self.core]
        if self.arch != expected:
            raise ValueError(f"cpu.arch: core {self.core} is {expected}, not {self.arch}")
        return self


class ZephyrNode(_Model):
    """The devicetree node describing a memory region in Zephyr."""

    node: Identifier  # node label, e.g. sram0, dtcm
    # value of the node's `zephyr,memory-region` property (the linker region name), if it has one
    memory_region: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None


class MemoryRegion(_Model):
    """A range of the address map where code, constants or buffers can live."""

    name: Identifier
    base: Address
    size: Size
    kind: RegionKind
    attributes: tuple[RegionAttribute, ...] = ()
    zephyr: ZephyrNode | None = None
    default: bool = False

    @property
    def end(self) -> int:
        """First address after the region."""
        return self.base + self.size

    @property
    def is_ram(self) -> bool:
        return self.kind != "flash"

    @property
    def dma_capable(self) -> bool:
        return "dma-capable" in self.attributes

    def contains(self, address: int, length: int = 1) -> bool:
        """True if ``[address, address + length)`` lies inside the region."""
        return self.base <= address and address + length <= self.end

    @model_validator(mode="after")
    def _fits_32_bits(self) -> MemoryRegion:
        if self.end > _ADDRESS_LIMIT:
            raise ValueError(
                f"region '{self.name}' (base {self.base:#x}, size {self.size:#x}) "
                "runs past the 32-bit address space"
            )
        return self


class ZephyrTarget(_Model):
    """How Zephyr names the board: the `-b` argument of `west build`."""

    target: Annotated[str, Field(pattern=r"^[a-z0-9_]+(/[a-z0-9_]+)*$")]
    # west projects (besides zephyr) the board needs, e.g. [cmsis_6, hal_stm32]: the generated
    # west.yml fetches only these.
    modules: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")], ...] = ()


class PlatformIOTarget(_Model):
    """PlatformIO platform and board ids, and the frameworks the board manifest lists."""

    platform: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    board: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    frameworks: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")], ...], Field(min_length=1)
    ]
    # The memory region where the framework's linker script begins its RAM (.data, .bss, the
    # heap): e.g. dtcm on STM32F7 Arduino cores. Default: the board's default RAM region.
    ram: str | None = None


class CMakeFlags(_Model):
    """Compiler flags for the bare-metal CMake flavour: ``mcpu`` (``mfpu``, ``mfloat_abi``) on Arm
    Cortex-M, ``march`` and ``mabi`` on RV32 (`generator.targets` checks which per cpu.arch)."""

    mcpu: NonEmptyStr | None = None
    mfpu: NonEmptyStr | None = None
    mfloat_abi: Literal["soft", "softfp", "hard"] = "soft"
    march: NonEmptyStr | None = None
    mabi: NonEmptyStr | None = None

    def flags(self) -> list[str]:
        """The flags for both compiling and linking, e.g. ``-mcpu=cortex-m4 -mthumb ...`` or
        ``-march=rv32imac -mabi=ilp32``."""
        return target_for("riscv" if self.march is not None else "arm").cpu_flags(self)


class Console(_Model):
    """The UART the firmware prints on (a Zephyr devicetree node label) and its baud rate."""

    uart: Identifier
    baud: PositiveInt


class SensorZephyr(_Model):
    """How Zephyr's devicetree exposes a sensor: its compatible, and a node label or alias if any."""

    compatible: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9,._-]*$")]
    node: Identifier | None = None
    alias: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")] | None = None


class SensorI2C(_Model):
    """Where an Arduino library finds the sensor when the core's default ``Wire`` bus is not it:
    the I2C pins (the core's pin names, e.g. ``PB11``) and the library's address constant value."""

    sda: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]
    scl: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]
    address: Annotated[int, Field(strict=True, ge=0, le=0xFF)]


class SensorPin(_Model):
    """A microcontroller pin in an alternate function: ``PE9``, AF6 (the datasheet's AF table)."""

    pin: Annotated[str, Field(pattern=r"^P[A-K](1[0-5]|[0-9])$")]
    af: Annotated[int, Field(strict=True, ge=0, le=15)]


class SensorDma(_Model):
    """A DMA channel and its request number (the reference manual's request mapping)."""

    controller: Annotated[int, Field(strict=True, ge=1, le=2)]
    channel: Annotated[int, Field(strict=True, ge=1, le=8)]
    request: Annotated[int, Field(strict=True, ge=0, le=15)]


class SensorDfsdm(_Model):
    """A PDM microphone wired to an STM32 DFSDM, which Zephyr has no audio driver for: mcuforge's
    own source drives it through the STM32Cube HAL (runtime/sensor/sources/mcf_source_stm32_dfsdm.c).
    ``channel`` takes the data from its own DATINn pin, ``edge`` is the clock edge the microphone's
    data is valid on (its L/R pin), the kernel clock is the system clock (``Board.clock_hz``)."""

    instance: Literal["DFSDM1"]
    channel: Annotated[int, Field(strict=True, ge=0, le=7)]
    filter: Annotated[int, Field(strict=True, ge=0, le=3)]
    edge: Literal["rising", "falling"]
    ckout: SensorPin
    datin: SensorPin
    dma: SensorDma


class SensorCamera(_Model):
    """What a board camera delivers through its Zephyr capture driver, so a pipeline asking for
    something else is refused before anything is generated. ``formats``: pixel formats by
    mcuforge's names (generator/sensor/camera.py); ``sizes``: the fixed frame sizes [width,
    height], and/or ``min_size``/``max_size``: any size between them (drivers that scale).
    ``frame_buffers``: how many buffers the capture driver needs queued before it streams (its
    ``video_caps.min_vbuf_count``); mcuforge reserves that many frame buffers statically.
    ``dma``: the driver fills them by DMA, so they must sit in a DMA-capable region."""

    formats: tuple[NonEmptyStr, ...]
    sizes: tuple[tuple[Annotated[int, Field(strict=True, gt=0)], Annotated[int, Field(strict=True, gt=0)]], ...] = ()
    min_size: tuple[Annotated[int, Field(strict=True, gt=0)], Annotated[int, Field(strict=True, gt=0)]] | None = None
    max_size: tuple[Annotated[int, Field(strict=True, gt=0)], Annotated[int, Field(strict=True, gt=0)]] | None = None
    frame_buffers: Annotated[int, Field(strict=True, ge=1, le=4)] = 1
    dma: bool = False

    @model_validator(mode="after")
    def _known(self) -> SensorCamera:
        from .sensor.camera import FORMATS

        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise ValueError(f"camera.formats: unknown pixel format {', '.join(unknown)} "
                             f"(mcuforge knows {', '.join(FORMATS)})")
        if (self.min_size is None) != (self.max_size is None):
            raise ValueError("camera: min_size and max_size go together")
        if self.min_size and self.max_size and any(a > b for a, b in zip(self.min_size, self.max_size, strict=True)):
            raise ValueError(f"camera: min_size {list(self.min_size)} exceeds max_size {list(self.max_size)}")
        if not self.sizes and self.min_size is None:
            raise ValueError("camera: list the frame sizes (sizes) or their range (min_size, max_size)")
        return self

    def allows(self, width: int, height: int) -> bool:
        """True if the camera delivers frames of ``width`` × ``height``."""
        if (width, height) in self.sizes:
            return True
        lo, hi = self.min_size, self.max_size
        return lo is not None and hi is not None and lo[0] <= width <= hi[0] and lo[1] <= height <= hi[1]

    def describe_sizes(self) -> str:
        parts = [f"{w}×{h}" for w, h in self.sizes]
        if self.min_size and self.max_size:
            parts.append(f"any from {self.min_size[0]}×{self.min_size[1]} to {self.max_size[0]}×{self.max_size[1]}")
        return ", ".join(parts)


class Sensor(_Model):
    """An on-board sensor. ``channels`` uses Zephyr's sensor channel names, lower case
    (``accel_xyz``, ``ambient_temp``, ...). ``max_rate_hz``: the highest output data rate of the
    part (datasheet), which a sensor pipeline's sample rate may not exceed."""

    kind: SensorKind
    part: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    zephyr: SensorZephyr | None = None
    arduino_library: NonEmptyStr | None = None
    arduino_i2c: SensorI2C | None = None
    dfsdm: SensorDfsdm | None = None
    camera: SensorCamera | None = None
    channels: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ...] = ()
    max_rate_hz: Annotated[float, Field(gt=0)] | None = None


class Emulator(_Model):
    """The emulator that runs the board's firmware. ``uart_index`` is the emulator's serial port
    number (0 is the first ``-serial``) that the console UART is wired to."""

    kind: Literal["qemu"]
    machine: NonEmptyStr
    cpu: NonEmptyStr | None = None
    uart_index: Annotated[int, Field(strict=True, ge=0)] = 0
    extra_args: tuple[str, ...] = ()


class Board(_Model):
    """One board. Frameworks are derived: a board supports Zephyr if it has a ``zephyr`` section,
    PlatformIO if it has ``platformio``, the bare-metal CMake flavour if it has ``cmake``."""

    id: Annotated[str, Field(pattern=_BOARD_ID_PATTERN)]
    name: NonEmptyStr
    vendor: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    cpu: Cpu
    clock_hz: PositiveInt  # core clock the default configuration runs at (Zephyr's devicetree)
    memory: Annotated[tuple[MemoryRegion, ...], Field(min_length=1)]
    zephyr: ZephyrTarget | None = None
    platformio: PlatformIOTarget | None = None
    cmake: CMakeFlags | None = None
    default_framework: Framework
    console: Console
    runners: tuple[Runner, ...] = ()
    usb: tuple[UsbId, ...] = ()
    sensors: tuple[Sensor, ...] = ()
    emulator: Emulator | None = None

    _source: Path | None = PrivateAttr(default=None)

    # ---- validation ----------------------------------------------------------------------------

    @field_validator("memory")
    @classmethod
    def _check_regions(cls, regions: tuple[MemoryRegion, ...]) -> tuple[MemoryRegion, ...]:
        names = [r.name for r in regions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"region names must be unique: {', '.join(duplicates)}")
        ordered = sorted(regions, key=lambda r: r.base)
        for low, high in itertools.pairwise(ordered):
            if high.base < low.end:
                raise ValueError(
                    f"regions '{low.name}' [{low.base:#x}, {low.end:#x}) and "
                    f"'{high.name}' [{high.base:#x}, {high.end:#x}) overlap"
                )
        ram = [r for r in regions if r.is_ram]
        if not ram:
            raise ValueError("a board needs at least one RAM region (kind sram, tcm, ccm or psram)")
        flash = [r for r in regions if not r.is_ram]
        for label, group in (("flash", flash), ("RAM", ram)):
            flagged = [r.name for r in group if r.default]
            if len(flagged) > 1:
                raise ValueError(f"only one {label} region can be default, not {', '.join(flagged)}")
            if len(group) > 1 and not flagged:
                raise ValueError(
                    f"{len(group)} {label} regions ({', '.join(r.name for r in group)}): "
                    "mark the main one with 'default: true'"
                )
        return regions

    @model_validator(mode="after")
    def _check_consistency(self) -> Board:
        if self.default_framework not in self.frameworks:
            raise ValueError(
                f"default_framework: '{self.default_framework}' needs a '{self.default_framework}' section"
            )
        if (self.emulator is not None) != ("qemu" in self.runners):
            raise ValueError("runners: 'qemu' goes with an 'emulator' section, and an emulator needs 'qemu'")
        if self.cmake is not None:
            self._check_cmake(self.cmake)
        pio_ram = self.platformio.ram if self.platformio is not None else None
        if pio_ram is not None and not any(r.name == pio_ram and r.is_ram for r in self.memory):
            raise ValueError(f"platformio.ram: '{pio_ram}' is not a RAM region of the board")
        return self

    def _check_cmake(self, cmake: CMakeFlags) -> None:
        if self.cpu.arch not in targets():
            raise ValueError(f"cmake: the bare-metal CMake flavour supports {' and '.join(sorted(targets()))} "
                             f"boards, not {self.cpu.arch}")
        target_for(self.cpu.arch).check_cmake(self.cpu, cmake)

    # ---- derived facts -------------------------------------------------------------------------

    @property
    def frameworks(self) -> list[Framework]:
        """Supported project flavours, the default first."""
        present = [f for f in _FRAMEWORK_ORDER if getattr(self, f) is not None]
        present.sort(key=lambda f: f != self.default_framework)
        return present

    @property
    def source(self) -> Path | None:
        """The file this board was loaded from (None if built in memory)."""
        return self._source

    def flash_region(self) -> MemoryRegion | None:
        """The board's flash: the default flash region, or the only one. None if the board has no
        flash and loads its program into RAM (see `image_region`)."""
        flash = [r for r in self.memory if not r.is_ram]
        if not flash:
            return None
        return next((r for r in flash if r.default), flash[0])

    def default_ram(self) -> MemoryRegion:
        """The main RAM (data, bss, stack): the default RAM region, or the only one."""
        ram = [r for r in self.memory if r.is_ram]
        return next((r for r in ram if r.default), ram[0])

    def image_region(self) -> MemoryRegion:
        """Where the program image (code and constant data) lives: the flash region, or the main
        RAM on boards without flash."""
        return self.flash_region() or self.default_ram()

    def ram_regions(self) -> list[MemoryRegion]:
        """Writable regions, fastest first: tcm, then ccm/sram, then psram; larger first within a
        rank, then lower address."""
        ram = [r for r in self.memory if r.is_ram]
        return sorted(ram, key=lambda r: (_RAM_RANK[r.kind], -r.size, r.base))

    def region(self, name: str) -> MemoryRegion:
        """The region called `name`; `UnknownRegionError` lists the board's regions otherwise."""
        for r in self.memory:
            if r.name == name:
                return r
        names = [r.name for r in self.memory]
        close = difflib.get_close_matches(name, names, n=1)
        raise UnknownRegionError(
            f"board '{self.id}' has no memory region '{name}' (regions: {', '.join(names)})",
            hint=f"did you mean '{close[0]}'?" if close else None,
        )

    def zephyr_runners(self) -> list[str]:
        """The runners as `west flash --runner` names (tools without a Zephyr runner left out)."""
        out: list[str] = []
        for runner in self.runners:
            name = _ZEPHYR_RUNNER.get(runner, runner)
            if name is not None:
                out.append(name)
        return out

    def qemu_binary(self) -> str:
        """The QEMU system emulator for this board, e.g. ``qemu-system-arm``."""
        if self.emulator is None:
            raise BoardError(f"board '{self.id}' has no emulator")
        try:
            return target_for(self.cpu.arch).qemu_binary
        except TargetError:
            raise BoardError(f"board '{self.id}': no QEMU binary known for {self.cpu.arch}") from None


# ---- where board files are -----------------------------------------------------------------------


def builtin_board_dir() -> Path:
    """The folder of board files shipped with mcuforge."""
    try:
        root = importlib_resources.files("mcuforge.board_defs")
        if isinstance(root, Path) and root.is_dir():
            return root
        # A namespace package (no __init__.py) may come back as a MultiplexedPath: use its
        # first real folder.
        for child in root.iterdir():
            if isinstance(child, Path):
                return child.parent
    except (ImportError, OSError, TypeError, ValueError):
        pass
    return Path(__file__).resolve().parent.parent / "board_defs"


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def board_search_path(board_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """The folders searched for board files, highest priority first (see the module docstring)."""
    requested: list[tuple[Path, str]] = [(Path(d), "board folder") for d in board_dirs]
    env = os.environ.get(BOARD_PATH_ENV, "")
    requested += [(Path(d), BOARD_PATH_ENV) for d in env.split(os.pathsep) if d.strip()]
    out: list[Path] = []
    seen: set[Path] = set()
    for folder, origin in requested:
        if not folder.is_dir():
            what = "does not exist" if not folder.exists() else "is not a folder"
            raise BoardDirError(
                f"{origin} {_display(folder)} {what}",
                hint=f"check the path (from {origin})" if origin == BOARD_PATH_ENV else None,
            )
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            out.append(folder)
    builtin = builtin_board_dir()
    if builtin.resolve() not in seen:
        out.append(builtin)
    return out


def _board_files(folder: Path) -> dict[str, Path]:
    """Board id (file stem) → file, for one folder. Two files for one id are an error."""
    files: dict[str, Path] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise BoardDirError(f"cannot list board folder {_display(folder)}: {exc.strerror or exc}") from exc
    for entry in entries:
        if entry.name.startswith(".") or entry.suffix not in _BOARD_SUFFIXES or not entry.is_file():
            continue
        board_id = entry.stem
        if board_id in files:
            raise BoardFileError(
                f"{_display(folder)}: board id '{board_id}' is defined twice "
                f"({files[board_id].name} and {entry.name})",
                hint="keep one file per board",
            )
        files[board_id] = entry
    return files


# ---- reading one file ----------------------------------------------------------------------------


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml if present


class _StrictLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader that rejects duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key '{key}'",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_error(where: str, exc: yaml.YAMLError) -> BoardFileError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = _one_line(exc.problem or exc.context or "syntax error")
        if mark is not None:
            return BoardFileError(f"{where}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {reason}")
        return BoardFileError(f"{where}: invalid YAML: {reason}")
    return BoardFileError(f"{where}: invalid YAML: {_one_line(str(exc))}")


_MAX_REPORTED_ERRORS = 3


def _validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as ``field.path: reason`` items on one line."""
    items: list[str] = []
    errors = exc.errors(include_url=False)
    for err in errors[:_MAX_REPORTED_ERRORS]:
        ctx_error = (err.get("ctx") or {}).get("error")
        # Our own ValueErrors are shown without pydantic's "Value error, " prefix.
        reason = str(ctx_error) if err["type"] == "value_error" and ctx_error is not None else err["msg"]
        loc = ".".join(str(part) for part in err["loc"])
        items.append(f"{loc}: {_one_line(reason)}" if loc else _one_line(reason))
    more = len(errors) - _MAX_REPORTED_ERRORS
    if more > 0:
        items.append(f"and {more} more error{'s' if more > 1 else ''}")
    return "; ".join(items)


def load_board_file(path: str | os.PathLike[str]) -> Board:
    """Read and validate one board file; its id must match the file name."""
    file = Path(path)
    where = _display(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BoardFileError(f"{where}: cannot read board file: {reason}") from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _yaml_error(where, exc) from exc
    if data is None:
        raise BoardFileError(f"{where}: the board file is empty")
    if not isinstance(data, dict):
        raise BoardFileError(f"{where}: expected a mapping of board fields, found {type(data).__name__}")
    try:
        board = Board.model_validate(data)
    except ValidationError as exc:
        raise BoardFileError(f"{where}: {_validation_message(exc)}") from exc
    if board.id != file.stem:
        raise BoardFileError(
            f"{where}: id: '{board.id}' does not match the file name",
            hint=f"rename the file to {board.id}{file.suffix} or set 'id: {file.stem}'",
        )
    board._source = file
    return board


# ---- public lookups ------------------------------------------------------------------------------


def _iter_files(board_dirs: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, Path]]:
    """(id, file) for every board file in search order; overridden ids come again later."""
    for folder in board_search_path(board_dirs):
        yield from _board_files(folder).items()


def board_ids(board_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """Every available board id, sorted (no file is parsed)."""
    return sorted({board_id for board_id, _ in _iter_files(board_dirs)})


def load_board(board_id: str, board_dirs: Iterable[str | os.PathLike[str]] = ()) -> Board:
    """The board `board_id`, from the first folder of the search path that has it.

    Raises:
        BoardNotFoundError: no such board (with up to three close ids as suggestions).
        BoardFileError: the board's file is broken.
        BoardDirError: a requested board folder does not exist.
    """
    dirs = list(board_dirs)
    search = board_search_path(dirs)
    known: dict[str, Path] = {}
    for folder in search:
        for found_id, file in _board_files(folder).items():
            if found_id == board_id:
                return load_board_file(file)
            known.setdefault(found_id, file)
    suggestions = difflib.get_close_matches(board_id.lower(), list(known), n=3, cutoff=0.6)
    # Someone may pass a Zephyr target ("mps2/an385") or a PlatformIO board id instead.
    for found_id, file in sorted(known.items()):
        try:
            board = load_board_file(file)
        except BoardError:
            continue
        targets = {
            board.zephyr.target if board.zephyr else None,
            board.platformio.board if board.platformio else None,
        }
        if board_id in targets and found_id not in suggestions:
            suggestions.insert(0, found_id)
    suggestions = suggestions[:3]
    message = f"unknown board '{board_id}'"
    if suggestions:
        message += f"; did you mean {', '.join(suggestions)}?"
    hint = f"board files are searched in {', '.join(_display(f) for f in search)}"
    if _BOARD_ID_RE.match(board_id):
        hint += f"; add {board_id}.yaml to one of them or list a folder in {BOARD_PATH_ENV}"
    raise BoardNotFoundError(message, hint=hint, suggestions=suggestions)


def list_boards(board_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Board]:
    """Every available board (user files overriding built-in ones), sorted by id."""
    chosen: dict[str, Path] = {}
    for board_id, file in _iter_files(board_dirs):
        chosen.setdefault(board_id, file)
    return [load_board_file(chosen[board_id]) for board_id in sorted(chosen)]
