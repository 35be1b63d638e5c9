"""`pip install .` into a fresh virtual environment works outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tracked_copy(dest: Path) -> Path:
    """The repository's tracked files as they are in the working tree: the wheel is built from what a
    clone has, not from leftovers in the checkout (setuptools' build/ folder keeps modules that were
    removed since, and pip would write it into the repository)."""
    listed = subprocess.run(["git", "ls-files", "-z"], capture_output=True, cwd=REPO)
    if listed.returncode != 0:  # not a git checkout: build from the folder itself
        return REPO
    for rel in filter(None, listed.stdout.decode().split("\0")):
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)
    return dest


def _dependency_dirs() -> list[str]:
    """Where this interpreter finds mcuforge's dependencies (typer, numpy, tflite-micro…).

    That is the site-packages of the environment running the tests (./.venv after setup.sh), not the
    base interpreter's: a venv made with system_site_packages=True from inside .venv would see only
    the base's, which on a fresh machine has none of them.
    """
    dirs = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if Path(d).is_dir()]


def _share_dependencies(py: Path) -> None:
    """Make this interpreter's installed dependencies visible to the venv of `py`, offline.

    A .pth file listing plain directories appends them to sys.path after the venv's own site-packages,
    without running the .pth files inside them, so the repository's editable install of mcuforge
    (an import hook started by a .pth file) stays out: mcuforge can only come from the wheel.
    """
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "mcuforge_test_deps.pth").write_text("".join(d + "\n" for d in _dependency_dirs()))


def test_dependency_dirs_hold_the_dependencies() -> None:
    """The directories shared with the wheel's venv are the ones this interpreter imports typer from."""
    import typer

    assert any(Path(typer.__file__).is_relative_to(d) for d in _dependency_dirs())


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repo(tmp_path: Path, models_dir: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    source = _tracked_copy(tmp_path / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(source)],
                           capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    # pip shows the build backend's warnings (setuptools: license format, undeclared data folders…).
    assert "BuildBackendWarning" not in built.stderr, built.stderr
    wheel = next(wheel_dir.glob("mcuforge-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for rel in ("runtime/kernels/mcf_dsp.h", "runtime/ports/baremetal/arm/startup.c", "board_defs/mps2_an386.yaml",
                "project_templates/cmake/cookiecutter.json", "project_templates/common/cookiecutter.json"):
        assert f"mcuforge/{rel}" in names, rel
    templates = [n for n in names if n.startswith("mcuforge/project_templates/")]
    assert any("/.github/workflows/" in n for n in templates), "the templates' dot-folders are missing"
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    _share_dependencies(py)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True, timeout=600)
    work = tmp_path / "elsewhere"
    work.mkdir()
    model = work / "ad01.tflite"
    shutil.copy(models_dir / "ad01_int8.tflite", model)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    probe = subprocess.run([str(py), "-c", "import mcuforge.generator, mcuforge.hil; "
                            "print(mcuforge.generator.__file__)"], capture_output=True, text=True, cwd=work,
                           env=env, check=True)
    assert str(env_dir) in probe.stdout, f"mcuforge imported from outside the venv: {probe.stdout}"
    exe = env_dir / "bin" / "mcuforge"
    res = subprocess.run([str(exe), "validate", str(model), "--inputs", "3", "--json"], capture_output=True,
                         text=True, cwd=work, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["bit_exact"] == 3
    boards = json.loads(subprocess.run([str(exe), "boards", "--json"], capture_output=True, text=True, cwd=work,
                                       env=env, check=True).stdout)
    assert len(boards) >= 14
    proj = work / "proj"
    res = subprocess.run([str(exe), "new", str(proj), "--model", str(model), "--board", "mps2_an386"],
                         capture_output=True, text=True, cwd=work, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    for rel in ("CMakeLists.txt", "src/main.c", ".github/workflows/hil.yml", "hil_tests/test_device.py",
                "mcuforge_model/ports/baremetal/arm/startup.c", "mcuforge_model/app/mcf_proto.c",
                "mcuforge_model/firmware.ld"):
        assert (proj / rel).is_file(), rel


def test_every_data_folder_is_a_declared_package() -> None:
    """setuptools warns about a data file in a folder that looks like a package but is not declared one.

    So every importable-looking folder under the data trees must be in pyproject's package list (a new
    runtime/ or template folder has to be added there, or `pip install` prints screens of warnings).
    """
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    folders = {"mcuforge.runtime": "runtime", "mcuforge.board_defs": "board_defs",
               "mcuforge.project_templates": "project_templates"}
    assert all(config["package-dir"][pkg] == folder for pkg, folder in folders.items())
    tracked = subprocess.run(["git", "ls-files", *folders.values()], capture_output=True, text=True, cwd=REPO)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    missing = set()
    for rel in tracked.stdout.splitlines():
        parts = Path(rel).parts[:-1]
        for depth in range(2, len(parts) + 1):
            if all(p.isidentifier() for p in parts[:depth]):
                missing.add("mcuforge." + ".".join(parts[:depth]))
    assert missing <= declared, f"add to [tool.setuptools] packages: {sorted(missing - declared)}"
