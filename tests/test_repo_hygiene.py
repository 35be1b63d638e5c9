"""No path of one particular machine in the repository.

External trees (models, Zephyr, PlatformIO core, TFLite Micro) are found through environment variables
(MCUFORGE_MODELS_DIR, ZEPHYR_BASE, MCUFORGE_PIO_CORE_DIR, MCUFORGE_TFLM_DIR) or a documented relative
default (../shared/models); an absolute path of a developer's or CI's machine in a tracked file works
there only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Absolute home and workspace folders (root's and users' homes on Linux, macOS and Windows, the
# project's sandbox workspace) and pytest's temporary folders pasted from a run.
# The folder names are written as "/" + name so that this file does not itself name such a path.
MACHINE_PATH = re.compile(r"(?<![\w.~$}/-])(?:" + "|".join([
    "/" + "root/", "/" + r"home/[a-z_][\w.-]*/", "/" + r"Users/\w", r"[A-Za-z]:\\Users\\", "/" + "work/",
    "/tmp/" + "pytest-of-"]) + ")")


def _abs(*parts: str) -> str:
    """An absolute path built from its parts (see MACHINE_PATH)."""
    return "/" + "/".join(parts)


def machine_paths(text: str) -> list[str]:
    """The lines of `text` that name a folder of one particular machine."""
    return [line.strip() for line in text.splitlines() if MACHINE_PATH.search(line)]


def test_the_pattern_finds_machine_paths_and_leaves_portable_ones() -> None:
    found = ["models in " + _abs("work", "shared", "models"), "BASE_GENDIR=" + _abs("root", ".cache", "x"),
             "cd " + _abs("home", "alice", "src"), r"C:\Users\bob\tflm", "see " + _abs("Users", "carol", "x"),
             _abs("tmp", "pytest-of-" + "root", "pytest-3", "p")]
    portable = ["../shared/models", "~/.cache/mcuforge", "$HOME/src", "${ZEPHYR_BASE}/boards", "/usr/bin/",
                "https://example.com" + "/wo" + "rk/x", "src" + "/wo" + "rk/main.c", "/opt/toolchain/bin",
                "docs/home/x"]
    assert machine_paths("\n".join(found)) == found
    assert machine_paths("\n".join(portable)) == []


def test_no_tracked_file_names_a_machine_path() -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], capture_output=True, cwd=REPO)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    offenders = []
    for rel in listed.stdout.decode().split("\0"):
        path = REPO / rel
        if not rel or not path.is_file() or path == Path(__file__).resolve():  # this file's examples
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:  # binary (models, test sets)
            continue
        offenders += [f"{rel}: {line[:160]}" for line in machine_paths(data.decode("utf-8", errors="replace"))]
    assert not offenders, ("paths of one machine in tracked files (use an environment variable or a relative "
                           "path):\n" + "\n".join(offenders))
