"""Host builds reuse compiled runtime kernels (generator/hostbuild.py) only for the same compilation:
the same compiler and flags, the same bytes of the source and of every file it includes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_kernel_pooling import _pool_model
from tflite_builder import Padding

from mcuforge.generator.codegen import generate
from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.hostbuild import HostModel, _ObjectCache
from mcuforge.generator.validate import random_inputs

CC = shutil.which("cc") or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="needs a host C compiler")


def test_an_included_header_or_a_flag_is_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCUFORGE_HOST_OBJECTS", str(tmp_path / "objects"))
    src = tmp_path / "src"
    src.mkdir()
    files = {"k.c": b'#include "k.h"\nint k_value(void) { return K; }\n', "k.h": b'#include "deep.h"\n',
             "deep.h": b"#define K 1\n", "unrelated.h": b"#define U 1\n"}
    cache = _ObjectCache()

    def obj(files: dict[str, bytes], flags: tuple[str, ...] = ()) -> Path:
        for name, data in files.items():
            (src / name).write_bytes(data)
        return cache.get(str(CC), ["-O2", *flags], src, "k.c", files)

    first = obj(files)
    stamp = first.stat().st_mtime_ns
    assert obj(files) == first and first.stat().st_mtime_ns == stamp  # a hit: not compiled again
    assert obj({**files, "unrelated.h": b"#define U 2\n"}) == first  # a file k.c does not include
    changed = obj({**files, "deep.h": b"#define K 2\n"})  # included through k.h
    assert changed != first and changed.read_bytes() != first.read_bytes()
    assert obj(files, ("-DX=1",)) not in (first, changed)
    assert sorted(p.name for p in (tmp_path / "objects").iterdir()) == sorted(
        p.name for p in (first, changed, obj(files, ("-DX=1",))))  # no half-written leftovers


def test_a_second_build_reuses_the_kernels_and_gives_the_same_bytes(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    objects = tmp_path / "objects"
    monkeypatch.setenv("MCUFORGE_HOST_OBJECTS", str(objects))
    model = _pool_model("AVERAGE_POOL_2D", (1, 6, 6, 4), (3, 3), (2, 2), Padding.SAME, zp=-3)
    graph = parse_model(model, name="t.tflite")
    lib = generate(compile_graph(graph), "model")
    batches = random_inputs(graph, 3, seed=1)
    with HostModel(lib) as host:
        first = host.run(batches)
    kernels = sorted(p.name for p in objects.iterdir())
    assert len(kernels) == len([s for s in lib.manifest["sources"] if s not in ("model.c", "model_data.c")])
    with HostModel(lib) as host:
        second = host.run(batches)
    assert sorted(p.name for p in objects.iterdir()) == kernels
    assert all(np.array_equal(a, b) for x, y in zip(first, second, strict=True) for a, b in zip(x, y, strict=True))
