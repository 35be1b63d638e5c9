"""`mcuforge new` on bad input: one clear line, exit status 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_bad_input import assert_clean_failure, run_cli

from mcuforge.generator.resources import board_defs_dir


@pytest.fixture()
def kws(models_dir: Path) -> str:
    return str(models_dir / "kws_ref_model.tflite")


def _nothing_written(tmp_path: Path, target: Path) -> None:
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unknown_board_suggests_close_ids(tmp_path: Path, kws: str) -> None:
    out = tmp_path / "p"
    proc = run_cli("new", str(out), "--model", kws, "--board", "nucleo_f746")
    assert_clean_failure(proc, "nucleo_f746zg")
    _nothing_written(tmp_path, out)


def test_board_file_with_wrong_field(tmp_path: Path, kws: str) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    data = yaml.safe_load((board_defs_dir() / "mps2_an385.yaml").read_text())
    data["id"] = "my_board"
    data["memory"][1]["size"] = "lots"
    (boards / "my_board.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "p"
    proc = run_cli("new", str(out), "--model", kws, "--board", "my_board", "--board-dir", str(boards))
    assert_clean_failure(proc, "my_board.yaml", "memory.1.size")
    _nothing_written(tmp_path, out)


def test_framework_not_supported(tmp_path: Path, kws: str) -> None:
    out = tmp_path / "p"
    proc = run_cli("new", str(out), "--model", kws, "--board", "mps2_an385", "--framework", "platformio")
    assert_clean_failure(proc, "does not support the platformio framework", "cmake")
    _nothing_written(tmp_path, out)


def test_unknown_framework(tmp_path: Path, kws: str) -> None:
    out = tmp_path / "p"
    assert_clean_failure(run_cli("new", str(out), "--model", kws, "--board", "mps2_an385", "--framework", "mbed"),
                         "unknown framework")
    _nothing_written(tmp_path, out)


def test_model_too_large_gives_numbers_per_region(tmp_path: Path, models_dir: Path) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    data = yaml.safe_load((board_defs_dir() / "mps2_an385.yaml").read_text())
    data["id"] = "tiny"
    data["memory"] = [m for m in data["memory"] if m["name"] != "psram"]
    data["memory"][0]["size"] = "128K"
    data["memory"][1]["size"] = "32K"
    (boards / "tiny.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "p"
    proc = run_cli("new", str(out), "--model", str(models_dir / "vww_96_int8.tflite"), "--board", "tiny",
                   "--board-dir", str(boards))
    assert_clean_failure(proc, "does not fit", "flash needs", "131,072 B", "sram needs")
    _nothing_written(tmp_path, out)


def test_unknown_region(tmp_path: Path, kws: str) -> None:
    out = tmp_path / "p"
    proc = run_cli("new", str(out), "--model", kws, "--board", "mps2_an385", "--place", "arena=dtcm")
    assert_clean_failure(proc, "no memory region 'dtcm'", "sram")
    _nothing_written(tmp_path, out)


def test_existing_folder_needs_force(tmp_path: Path, kws: str) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_clean_failure(run_cli("new", str(out), "--model", kws, "--board", "mps2_an385"), "already exists", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_force_keeps_user_files_and_regenerates(tmp_path: Path, kws: str, models_dir: Path) -> None:
    out = tmp_path / "proj"
    assert run_cli("new", str(out), "--model", kws, "--board", "mps2_an386").returncode == 0
    main_c = out / "src" / "main.c"
    main_c.write_text("/* mine */\n")
    (out / "mcuforge_model" / "stale.txt").write_text("left over")
    proc = run_cli("new", str(out), "--model", kws, "--board", "mps2_an386", "--force")
    assert proc.returncode == 0, proc.stderr
    assert main_c.read_text() == "/* mine */\n"
    assert not (out / "mcuforge_model" / "stale.txt").exists()
    assert (out / "mcuforge_model" / "model" / "kws_ref_model.h").exists()


def test_update_outside_a_project(tmp_path: Path) -> None:
    assert_clean_failure(run_cli("update", str(tmp_path)), "not an mcuforge project")
