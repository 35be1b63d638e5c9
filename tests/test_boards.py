"""Board definitions: every shipped board file validates and holds the checked facts; user folders
override built-in boards; broken files fail with one line naming file, field and reason."""

from __future__ import annotations

import copy
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcuforge.generator import boards
from mcuforge.generator.boards import (
    BOARD_PATH_ENV,
    Board,
    BoardDirError,
    BoardError,
    BoardFileError,
    BoardNotFoundError,
    UnknownRegionError,
)
from mcuforge.generator.errors import McuforgeError

EXPECTED_BOARDS = {
    "nucleo_f746zg",
    "nucleo_h743zi",
    "disco_l475_iot1",
    "stm32f746g_disco",
    "nrf52840dk",
    "arduino_nano_33_ble",
    "esp32s3_devkitc",
    "esp32c3_devkitm",
    "rpi_pico",
    "frdm_k64f",
    "mps2_an385",
    "mps2_an386",
    "mps2_an500",
    "qemu_riscv32",
    "96b_argonkey",  # a Zephyr board whose microphone driver (st,mpxxdtyy) builds with hal_stm32 + hal_st
    "arduino_nicla_vision",  # a real camera (GC2145 on the STM32 DCMI)
}
BUILTIN_FILES = sorted(boards.builtin_board_dir().glob("*.yaml"))

K = 1024
M = 1024 * 1024


@pytest.fixture(autouse=True)
def _no_user_board_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the built-in boards unless they set the variable themselves."""
    monkeypatch.delenv(BOARD_PATH_ENV, raising=False)


def minimal_board(board_id: str = "my_board", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": board_id,
        "name": "My board",
        "vendor": "acme",
        "cpu": {"core": "cortex-m4", "arch": "arm", "fpu": "sp", "dsp": True},
        "clock_hz": 100_000_000,
        "memory": [
            {"name": "flash", "base": 0x08000000, "size": "512K", "kind": "flash"},
            {"name": "sram", "base": 0x20000000, "size": "128K", "kind": "sram"},
        ],
        "zephyr": {"target": "my_board"},
        "default_framework": "zephyr",
        "console": {"uart": "usart2", "baud": 115200},
        "runners": ["openocd"],
    }
    data.update(changes)
    return data


def write_board(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{data['id']}.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def builtin_data(board_id: str) -> dict[str, Any]:
    return yaml.safe_load((boards.builtin_board_dir() / f"{board_id}.yaml").read_text(encoding="utf-8"))


# ---- the shipped boards ----------------------------------------------------------------------------


def test_the_expected_boards_are_shipped() -> None:
    assert {p.stem for p in BUILTIN_FILES} == EXPECTED_BOARDS
    assert set(boards.board_ids()) == EXPECTED_BOARDS
    assert [b.id for b in boards.list_boards()] == sorted(EXPECTED_BOARDS)


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.stem)
def test_builtin_board_loads_and_is_consistent(path: Path) -> None:
    board = boards.load_board(path.stem)
    assert board.id == path.stem
    assert board.source == path
    assert path.read_text(encoding="utf-8").startswith("#"), "say where the facts come from"
    assert board.default_framework == board.frameworks[0]
    # The program image has a home; the main RAM is one of the RAM regions.
    assert board.image_region() in board.memory
    assert board.default_ram() in board.ram_regions()
    assert board.default_ram().kind != "psram"
    # Zephyr devicetree references are unique within a board.
    labels = [r.zephyr.node for r in board.memory if r.zephyr]
    assert len(labels) == len(set(labels))
    if board.emulator is None:
        assert board.flash_region() is not None
        # the Argonkey's console is usart1 on the 96Boards low-speed connector: no USB serial of its own
        assert board.usb or board.id == "96b_argonkey", "real boards list the USB ids of their serial port"
    else:
        assert board.runners == ("qemu",)
        assert board.qemu_binary().startswith("qemu-system-")


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.stem)
def test_builtin_regions_do_not_overlap(path: Path) -> None:
    board = boards.load_board(path.stem)
    for a, b in itertools.combinations(board.memory, 2):
        assert a.end <= b.base or b.end <= a.base, f"{a.name} and {b.name} overlap"
        assert a.end <= 1 << 32


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.stem)
def test_ram_regions_are_fastest_first(path: Path) -> None:
    board = boards.load_board(path.stem)
    rank = {"tcm": 0, "ccm": 1, "sram": 1, "psram": 2}
    ram = board.ram_regions()
    assert all(r.kind != "flash" for r in ram)
    assert {r.name for r in ram} == {r.name for r in board.memory if r.kind != "flash"}
    keys = [(rank[r.kind], -r.size) for r in ram]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("board_id", "flash", "ram_order"),
    [
        ("nucleo_f746zg", (0x08000000, 1 * M), ["dtcm", "sram"]),
        ("stm32f746g_disco", (0x08000000, 1 * M), ["dtcm", "sram", "sdram"]),
        ("nucleo_h743zi", (0x08000000, 2 * M), ["dtcm", "axi_sram", "sram1", "sram2", "sram4", "sram3"]),
        ("disco_l475_iot1", (0x08000000, 1 * M), ["sram1", "sram2"]),
        ("frdm_k64f", (0x0, 1 * M), ["sram_u", "sram_l"]),
        ("rpi_pico", (0x10000000, 2 * M), ["sram"]),
        ("mps2_an385", (0x0, 4 * M), ["sram", "psram"]),
        ("qemu_riscv32", None, ["ram"]),
    ],
)
def test_flash_and_ram_order(board_id: str, flash: tuple[int, int] | None, ram_order: list[str]) -> None:
    board = boards.load_board(board_id)
    region = board.flash_region()
    if flash is None:
        assert region is None
        assert board.image_region() is board.default_ram()
    else:
        assert region is not None
        assert (region.base, region.size, region.kind) == (*flash, "flash")
        assert board.image_region() is region
    assert [r.name for r in board.ram_regions()] == ram_order


@pytest.mark.parametrize(
    ("board_id", "region", "base", "size", "kind", "zephyr"),
    [
        # GUIDE and Zephyr's mps2_base.dtsi: code memory 4 MiB at 0, SRAM 4 MiB at 0x20000000.
        ("mps2_an385", "sram", 0x20000000, 4 * M, "sram", ("sram0", None)),
        ("mps2_an386", "psram", 0x21000000, 16 * M, "psram", None),
        ("mps2_an500", "psram", 0x60000000, 16 * M, "psram", None),
        ("nucleo_f746zg", "dtcm", 0x20000000, 64 * K, "tcm", ("dtcm", "DTCM")),
        ("nucleo_f746zg", "sram", 0x20010000, 256 * K, "sram", ("sram0", "SRAM0")),
        ("nucleo_h743zi", "axi_sram", 0x24000000, 512 * K, "sram", ("sram0", "SRAM0")),
        ("nucleo_h743zi", "sram4", 0x38000000, 64 * K, "sram", ("sram4", "SRAM4")),
        ("disco_l475_iot1", "sram2", 0x10000000, 32 * K, "sram", ("sram1", "SRAM1")),
        ("stm32f746g_disco", "sdram", 0xC0000000, 8 * M, "psram", ("sdram1", "SDRAM1")),
        ("frdm_k64f", "sram_l", 0x1FFF0000, 64 * K, "sram", ("sram_l", "SRAML")),
        ("esp32s3_devkitc", "sram1", 0x3FC88000, 416 * K, "sram", ("sram1", "SRAM1")),
        ("esp32c3_devkitm", "sram1", 0x3FC80000, 384 * K, "sram", ("sram1", "SRAM1")),
        ("nrf52840dk", "sram", 0x20000000, 256 * K, "sram", ("sram0", None)),
        ("qemu_riscv32", "ram", 0x80000000, 256 * M, "sram", ("ram0", None)),
    ],
)
def test_region_facts(
    board_id: str, region: str, base: int, size: int, kind: str, zephyr: tuple[str, str | None] | None
) -> None:
    r = boards.load_board(board_id).region(region)
    assert (r.base, r.size, r.kind) == (base, size, kind)
    assert (None if r.zephyr is None else (r.zephyr.node, r.zephyr.memory_region)) == zephyr


@pytest.mark.parametrize(
    ("board_id", "target", "pio_board", "console", "clock_hz"),
    [
        ("nucleo_f746zg", "nucleo_f746zg", "nucleo_f746zg", "usart3", 192_000_000),
        ("nucleo_h743zi", "nucleo_h743zi", "nucleo_h743zi", "usart3", 480_000_000),
        ("disco_l475_iot1", "disco_l475_iot1", "disco_l475vg_iot01a", "usart1", 80_000_000),
        ("stm32f746g_disco", "stm32f746g_disco", "disco_f746ng", "usart1", 216_000_000),
        ("nrf52840dk", "nrf52840dk/nrf52840", "nrf52840_dk", "uart0", 64_000_000),
        ("arduino_nano_33_ble", "arduino_nano_33_ble/nrf52840/sense", "nano33ble", "uart0", 64_000_000),
        ("esp32s3_devkitc", "esp32s3_devkitc/esp32s3/procpu", "esp32-s3-devkitc-1", "uart0", 240_000_000),
        ("esp32c3_devkitm", "esp32c3_devkitm", "esp32-c3-devkitm-1", "uart0", 160_000_000),
        ("rpi_pico", "rpi_pico", "pico", "uart0", 125_000_000),
        ("frdm_k64f", "frdm_k64f", "frdm_k64f", "uart0", 120_000_000),
        ("mps2_an385", "mps2/an385", None, "uart0", 25_000_000),
        ("mps2_an386", "mps2/an386", None, "uart0", 25_000_000),
        ("mps2_an500", "mps2/an500", None, "uart0", 25_000_000),
        ("qemu_riscv32", "qemu_riscv32", None, "uart0", 10_000_000),
    ],
)
def test_targets(board_id: str, target: str, pio_board: str | None, console: str, clock_hz: int) -> None:
    board = boards.load_board(board_id)
    assert board.zephyr is not None and board.zephyr.target == target
    assert (board.platformio.board if board.platformio else None) == pio_board
    assert board.console.uart == console
    assert board.console.baud == 115200
    assert board.clock_hz == clock_hz


@pytest.mark.parametrize(
    ("board_id", "core", "fpu", "flags", "machine"),
    [
        ("mps2_an385", "cortex-m3", "none", ["-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"], "mps2-an385"),
        (
            "mps2_an386",
            "cortex-m4",
            "sp",
            ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
            "mps2-an386",
        ),
        (
            "mps2_an500",
            "cortex-m7",
            "dp",
            ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
            "mps2-an500",
        ),
    ],
)
def test_emulated_mps2_boards(board_id: str, core: str, fpu: str, flags: list[str], machine: str) -> None:
    board = boards.load_board(board_id)
    assert (board.cpu.core, board.cpu.fpu) == (core, fpu)
    assert board.frameworks == ["cmake", "zephyr"]
    assert board.cmake is not None and board.cmake.flags() == flags
    assert board.emulator is not None
    assert (board.emulator.machine, board.emulator.uart_index) == (machine, 0)
    assert board.qemu_binary() == "qemu-system-arm"
    assert board.zephyr_runners() == []


def test_frameworks_and_runners() -> None:
    assert boards.load_board("qemu_riscv32").frameworks == ["cmake", "zephyr"]
    assert boards.load_board("qemu_riscv32").cmake.flags() == ["-march=rv32imac", "-mabi=ilp32"]  # type: ignore[union-attr]
    assert boards.load_board("qemu_riscv32").qemu_binary() == "qemu-system-riscv32"
    assert boards.load_board("nucleo_f746zg").frameworks == ["zephyr", "platformio"]
    esp = boards.load_board("esp32s3_devkitc")
    assert esp.frameworks == ["platformio", "zephyr"]
    assert esp.zephyr_runners() == ["esp32", "openocd"]  # Zephyr calls its esptool runner esp32
    with pytest.raises(BoardError, match="has no emulator"):
        esp.qemu_binary()


def test_sensors() -> None:
    l475 = boards.load_board("disco_l475_iot1")
    imu = next(s for s in l475.sensors if s.kind == "imu")
    assert imu.part == "lsm6dsl"
    assert imu.zephyr is not None and (imu.zephyr.alias, imu.zephyr.compatible) == ("accel0", "st,lsm6dsl")
    assert imu.arduino_library == "STM32duino LSM6DSL"
    nano = boards.load_board("arduino_nano_33_ble")
    mic = next(s for s in nano.sensors if s.kind == "microphone")
    assert mic.zephyr is not None and mic.zephyr.node == "dmic_dev"
    assert {s.arduino_library for s in nano.sensors if s.kind == "imu"} == {"Arduino_LSM9DS1"}


def test_camera_capabilities() -> None:
    nicla = boards.load_board("arduino_nicla_vision")
    cam = next(s for s in nicla.sensors if s.kind == "camera")
    assert cam.camera is not None and cam.camera.frame_buffers == 2 and cam.camera.dma
    assert cam.camera.allows(320, 240) and cam.camera.allows(160, 120) and cam.camera.allows(200, 150)
    assert not cam.camera.allows(96, 96) and not cam.camera.allows(1920, 1080)
    assert "any from 160×120 to 1600×1200" in cam.camera.describe_sizes()


@pytest.mark.parametrize("camera, message", [
    ({"formats": ["rgb565"], "sizes": [[320, 240]]}, "unknown pixel format rgb565"),
    ({"formats": ["yuyv"]}, "list the frame sizes"),
    ({"formats": ["yuyv"], "min_size": [160, 120]}, "min_size and max_size go together"),
    ({"formats": ["yuyv"], "min_size": [640, 480], "max_size": [320, 240]}, "exceeds max_size"),
])
def test_camera_capabilities_are_checked(camera: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        boards.SensorCamera.model_validate(camera)


def test_region_lookup_lists_the_regions() -> None:
    board = boards.load_board("nucleo_h743zi")
    assert board.region("sram4").base == 0x38000000
    with pytest.raises(UnknownRegionError) as info:
        board.region("sram5")
    assert "no memory region 'sram5'" in info.value.message
    assert "flash, dtcm, axi_sram, sram1, sram2, sram3, sram4" in info.value.message
    assert info.value.hint == "did you mean 'sram4'?"


def test_model_dump_round_trips() -> None:
    for board in boards.list_boards():
        again = Board.model_validate(board.model_dump())
        assert again.model_dump() == board.model_dump()
        assert again.source is None and board.source is not None


# ---- user folders ----------------------------------------------------------------------------------


def test_user_folder_argument_overrides_and_adds(tmp_path: Path) -> None:
    override = builtin_data("nucleo_f746zg")
    override["name"] = "My Nucleo"
    override["clock_hz"] = 216_000_000
    path = write_board(tmp_path / "mine", override)
    write_board(tmp_path / "mine", minimal_board("my_board"))

    board = boards.load_board("nucleo_f746zg", board_dirs=[tmp_path / "mine"])
    assert (board.name, board.clock_hz, board.source) == ("My Nucleo", 216_000_000, path)
    assert boards.load_board("nucleo_f746zg").name == "ST Nucleo-F746ZG"  # built-in untouched

    listed = {b.id: b for b in boards.list_boards(board_dirs=[str(tmp_path / "mine")])}
    assert set(listed) == EXPECTED_BOARDS | {"my_board"}
    assert listed["nucleo_f746zg"].name == "My Nucleo"
    assert "my_board" in boards.board_ids([tmp_path / "mine"])


def test_env_var_folders_and_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, arg = tmp_path / "first", tmp_path / "second", tmp_path / "arg"
    write_board(first, minimal_board("env_board", name="from first"))
    write_board(second, minimal_board("env_board", name="from second"))
    write_board(second, minimal_board("only_second", name="only in second"))
    write_board(arg, minimal_board("env_board", name="from argument"))
    monkeypatch.setenv(BOARD_PATH_ENV, os.pathsep.join([str(first), "", str(second)]))

    assert boards.load_board("env_board").name == "from first"  # earlier entries win
    assert boards.load_board("only_second").name == "only in second"
    assert boards.load_board("env_board", board_dirs=[arg]).name == "from argument"  # argument beats env
    assert boards.load_board("rpi_pico").source == boards.builtin_board_dir() / "rpi_pico.yaml"
    assert boards.board_search_path([arg]) == [arg, first, second, boards.builtin_board_dir()]


def test_env_var_override_of_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = builtin_data("esp32s3_devkitc")
    data["name"] = "ESP32-S3-DevKitC-1 N8R8"
    data["memory"][1]["default"] = True
    data["memory"].append({"name": "psram", "base": 0x3D000000, "size": "8M", "kind": "psram"})
    write_board(tmp_path, data)
    monkeypatch.setenv(BOARD_PATH_ENV, str(tmp_path))
    board = boards.load_board("esp32s3_devkitc")
    assert board.name == "ESP32-S3-DevKitC-1 N8R8"
    assert [r.name for r in board.ram_regions()] == ["sram1", "psram"]


def test_missing_user_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BoardDirError, match="does not exist"):
        boards.load_board("rpi_pico", board_dirs=[tmp_path / "nope"])
    monkeypatch.setenv(BOARD_PATH_ENV, str(tmp_path / "typo"))
    with pytest.raises(BoardDirError) as info:
        boards.list_boards()
    assert BOARD_PATH_ENV in info.value.message and "typo" in info.value.message


# ---- errors ----------------------------------------------------------------------------------------


def test_errors_are_mcuforge_errors() -> None:
    for cls in (BoardError, BoardNotFoundError, BoardFileError, BoardDirError, UnknownRegionError):
        assert issubclass(cls, McuforgeError)
    assert BoardFileError("x").exit_code == 2


def test_unknown_board_suggests_the_closest() -> None:
    with pytest.raises(BoardNotFoundError) as info:
        boards.load_board("nucleo_f746")
    err = info.value
    assert err.message.startswith("unknown board 'nucleo_f746'; did you mean nucleo_f746zg")
    assert err.suggestions[0] == "nucleo_f746zg"
    assert 1 <= len(err.suggestions) <= 3
    assert err.hint is not None and BOARD_PATH_ENV in err.hint


def test_unknown_board_given_as_zephyr_target() -> None:
    with pytest.raises(BoardNotFoundError) as info:
        boards.load_board("nrf52840dk/nrf52840")
    assert info.value.suggestions[0] == "nrf52840dk"
    with pytest.raises(BoardNotFoundError) as info:
        boards.load_board("nano33ble")  # the PlatformIO board id
    assert info.value.suggestions[0] == "arduino_nano_33_ble"


def test_nothing_close_means_no_suggestion() -> None:
    with pytest.raises(BoardNotFoundError) as info:
        boards.load_board("zzzz")
    assert info.value.message == "unknown board 'zzzz'"
    assert info.value.suggestions == []


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path so that messages show short relative paths (boards/<id>.yaml)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load_broken(folder: Path, data: dict[str, Any]) -> BoardFileError:
    write_board(folder / "boards", data)
    with pytest.raises(BoardFileError) as info:
        boards.load_board(data["id"], board_dirs=[Path("boards")])
    assert "\n" not in info.value.message
    return info.value


def test_wrong_field_type_names_file_field_and_reason(in_tmp: Path) -> None:
    data = minimal_board("bad_size")
    data["memory"][1]["size"] = [128]
    err = load_broken(in_tmp, data)
    assert err.message == "boards/bad_size.yaml: memory.1.size: Input should be a valid integer"


def test_bad_size_string(in_tmp: Path) -> None:
    data = minimal_board("bad_unit")
    data["memory"][0]["size"] = "512Q"
    err = load_broken(in_tmp, data)
    assert err.message.startswith("boards/bad_unit.yaml: memory.0.size: ")
    assert "'512Q' is not a size" in err.message


def test_unknown_key_and_bad_literal(in_tmp: Path) -> None:
    data = minimal_board("bad_keys")
    data["memory"][0]["colour"] = "blue"
    data["cpu"]["fpu"] = "quad"
    err = load_broken(in_tmp, data)
    assert err.message.startswith("boards/bad_keys.yaml: ")
    assert "cpu.fpu: Input should be 'none', 'sp' or 'dp'" in err.message
    assert "memory.0.colour: Extra inputs are not permitted" in err.message


def test_missing_field(in_tmp: Path) -> None:
    data = minimal_board("no_console")
    del data["console"]
    err = load_broken(in_tmp, data)
    assert err.message == "boards/no_console.yaml: console: Field required"


def test_overlapping_regions(in_tmp: Path) -> None:
    data = minimal_board("overlap")
    data["memory"].append({"name": "ccm", "base": 0x20010000, "size": "128K", "kind": "ccm"})
    err = load_broken(in_tmp, data)
    assert err.message.startswith("boards/overlap.yaml: memory: regions 'sram' ")
    assert "'ccm'" in err.message and "overlap" in err.message


def test_several_ram_regions_need_a_default(in_tmp: Path) -> None:
    data = minimal_board("two_rams")
    data["memory"].append({"name": "ccm", "base": 0x10000000, "size": "64K", "kind": "ccm"})
    err = load_broken(in_tmp, data)
    assert "memory: 2 RAM regions (sram, ccm): mark the main one with 'default: true'" in err.message
    data["memory"][1]["default"] = True
    path = write_board(in_tmp / "boards", data)
    board = boards.load_board_file(path)
    assert board.default_ram().name == "sram"
    assert [r.name for r in board.ram_regions()] == ["sram", "ccm"]  # same rank: larger first


def test_cross_field_checks(in_tmp: Path) -> None:
    err = load_broken(in_tmp, minimal_board("no_pio", default_framework="platformio"))
    assert "default_framework: 'platformio' needs a 'platformio' section" in err.message
    err = load_broken(in_tmp, minimal_board("qemu_no_emu", runners=["qemu"]))
    assert "runners: 'qemu' goes with an 'emulator' section" in err.message
    err = load_broken(
        in_tmp,
        minimal_board("wrong_arch", cpu={"core": "rv32imc", "arch": "arm", "fpu": "none", "dsp": False}),
    )
    assert "cpu.arch: core rv32imc is riscv, not arm" in err.message
    cmake = {"mcpu": "cortex-m4", "mfpu": "fpv5-d16", "mfloat_abi": "hard"}
    err = load_broken(in_tmp, minimal_board("dp_flags", cmake=cmake))
    assert "cmake.mfpu: 'fpv5-d16' is double precision but cpu.fpu is sp" in err.message


def test_id_must_match_file_name(in_tmp: Path) -> None:
    write_board(in_tmp / "boards", minimal_board("real_id"), name="other_name.yaml")
    with pytest.raises(BoardFileError) as info:
        boards.load_board("other_name", board_dirs=["boards"])
    assert info.value.message == "boards/other_name.yaml: id: 'real_id' does not match the file name"


def test_yaml_syntax_error_gives_file_and_line(in_tmp: Path) -> None:
    folder = in_tmp / "boards"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\nname: Broken\ncpu: {core: cortex-m4\nclock_hz: 1\n")
    with pytest.raises(BoardFileError) as info:
        boards.load_board("broken", board_dirs=[folder])
    assert info.value.message.startswith("boards/broken.yaml:4:")
    assert "invalid YAML" in info.value.message


def test_duplicate_yaml_key_is_an_error(in_tmp: Path) -> None:
    folder = in_tmp / "boards"
    path = write_board(folder, minimal_board("dup_key"))
    path.write_text(path.read_text() + "clock_hz: 5\n")
    with pytest.raises(BoardFileError) as info:
        boards.load_board("dup_key", board_dirs=[folder])
    assert info.value.message.startswith("boards/dup_key.yaml:")
    assert "duplicate key 'clock_hz'" in info.value.message


def test_empty_and_non_mapping_files(in_tmp: Path) -> None:
    folder = in_tmp / "boards"
    folder.mkdir()
    (folder / "empty.yaml").write_text("# nothing\n")
    (folder / "listy.yaml").write_text("- a\n- b\n")
    with pytest.raises(BoardFileError, match=r"^boards/empty\.yaml: the board file is empty$"):
        boards.load_board("empty", board_dirs=[folder])
    with pytest.raises(BoardFileError, match=r"^boards/listy\.yaml: expected a mapping"):
        boards.load_board("listy", board_dirs=[folder])


def test_duplicate_ids_in_one_folder(in_tmp: Path) -> None:
    folder = in_tmp / "boards"
    write_board(folder, minimal_board("twice"))
    write_board(folder, minimal_board("twice"), name="twice.yml")
    with pytest.raises(BoardFileError) as info:
        boards.list_boards(board_dirs=[folder])
    assert info.value.message == "boards: board id 'twice' is defined twice (twice.yaml and twice.yml)"


def test_broken_builtin_copy_does_not_leak(tmp_path: Path) -> None:
    """A broken user override is reported, not silently replaced by the built-in board."""
    data = copy.deepcopy(builtin_data("rpi_pico"))
    data["clock_hz"] = "fast"
    write_board(tmp_path, data)
    with pytest.raises(BoardFileError, match=r"clock_hz: Input should be a valid integer"):
        boards.load_board("rpi_pico", board_dirs=[tmp_path])


# ---- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [(65536, 65536), ("65536", 65536), ("0x10000", 65536), ("64K", 65536), ("2M", 2 * M), ("1G", 1 << 30)],
)
def test_sizes(text: Any, value: int) -> None:
    data = minimal_board()
    data["memory"][1]["size"] = text
    assert Board.model_validate(data).region("sram").size == value


@pytest.mark.parametrize("bad", [True, 1.5, "-4K", "64 KB", "", 0])
def test_bad_sizes_are_rejected(bad: Any) -> None:
    data = minimal_board()
    data["memory"][1]["size"] = bad
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        Board.model_validate(data)


def test_addresses_accept_hex_strings_and_stay_in_32_bits() -> None:
    data = minimal_board()
    data["memory"][1]["base"] = "0x2000_0000"
    assert Board.model_validate(data).region("sram").base == 0x20000000
    data["memory"][1]["base"] = 0xFFFF0000
    with pytest.raises(ValueError, match="32-bit address space"):
        Board.model_validate(data)


def test_usb_ids_are_normalised() -> None:
    assert Board.model_validate(minimal_board(usb=["0483:374B"])).usb == ("0483:374b",)
    with pytest.raises(ValueError):
        Board.model_validate(minimal_board(usb=["0483-374b"]))
