"""Build a generated model library for the host and run inputs through it.

The harness reads every input tensor's bytes from stdin, invokes, writes every output's bytes to
stdout (then a stateful model's state buffer), and repeats until stdin ends, so one process runs a
whole batch (for a stateful model: one stream).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .codegen import GeneratedLibrary
from .ir import NUMPY_DTYPES
from .tools import find_tool, run_tool

WARNING_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]

_HARNESS = """\
#include <stdio.h>
#include "{p}.h"

static int read_all(void *dst, size_t n) {{ return fread(dst, 1, n, stdin) == n; }}

int main(void)
{{
    {p}_init();
    for (;;) {{
        unsigned i;
        for (i = 0; i < {p}_model.num_inputs; ++i) {{
            if (!read_all({p}_model.inputs[i].data, {p}_model.inputs[i].bytes)) return 0;
        }}
        {p}_invoke();
        for (i = 0; i < {p}_model.num_outputs; ++i) {{
            fwrite({p}_model.outputs[i].data, 1, {p}_model.outputs[i].bytes, stdout);
        }}
        if ({p}_model.state_bytes > 0u) {{
            fwrite({p}_model.state, 1, {p}_model.state_bytes, stdout);
        }}
        fflush(stdout);
    }}
}}
"""


_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*["<]([^">]+)[">]', re.M)


class _ObjectCache:
    """Object files of runtime sources, keyed by the compiler, its flags and the bytes of the source
    and of every file it includes (transitively, from the library), so a hit is the same compilation.

    They live in a temporary folder of this process, or in $MCUFORGE_HOST_OBJECTS if set (a folder
    processes share, e.g. a test run's workers: tests/conftest.py; one run's, as the compiler is
    named by its path only)."""

    def __init__(self) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def _folder(self) -> Path:
        shared = os.environ.get("MCUFORGE_HOST_OBJECTS")
        if shared:
            Path(shared).mkdir(parents=True, exist_ok=True)
            return Path(shared)
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mcuforge-host-objects-")
        return Path(self._tmp.name)

    def get(self, compiler: str, flags: list[str], src_dir: Path, source: str, files: dict[str, bytes]) -> Path:
        h = hashlib.sha256("\0".join([compiler, *flags]).encode())
        seen: set[str] = set()
        todo = [source]
        while todo:
            name = todo.pop()
            if name in seen or name not in files:  # not in the library: a system header
                continue
            seen.add(name)
            todo += [m.decode() for m in _INCLUDE.findall(files[name])]
        for name in sorted(seen):
            h.update(b"\0%s\0%d\0" % (name.encode(), len(files[name])) + files[name])
        obj = self._folder() / f"{h.hexdigest()}.o"
        if not obj.exists():
            part = obj.with_suffix(f".{os.getpid()}.part")  # renamed when whole: a reader never sees half
            run_tool([compiler, *flags, "-I", src_dir, "-c", src_dir / source, "-o", part], timeout=600)
            os.replace(part, obj)
        return obj


_RUNTIME_OBJECTS = _ObjectCache()


class HostModel:
    """A generated library compiled into a host executable."""

    def __init__(self, lib: GeneratedLibrary, workdir: Path | None = None, cc: str | None = None,
                 extra_flags: tuple[str, ...] = ()) -> None:
        self.lib = lib
        self._tmp = tempfile.TemporaryDirectory(prefix="mcuforge-host-") if workdir is None else None
        self.dir = Path(self._tmp.name) if self._tmp else Path(workdir)  # type: ignore[arg-type]
        for rel, data in lib.files.items():
            (self.dir / rel).write_bytes(data)
        (self.dir / "harness_main.c").write_text(_HARNESS.format(p=lib.prefix))
        compiler = cc or os.environ.get("CC") or find_tool("cc", hint="install gcc (apt-get install gcc)")
        flags = [*WARNING_FLAGS, "-O2", *extra_flags]
        model_files = {f"{lib.prefix}.c", f"{lib.prefix}_data.c"}
        # The runtime's kernels are the same files in every library: compiled once per process.
        objects = [_RUNTIME_OBJECTS.get(compiler, flags, self.dir, s, lib.files)
                   for s in lib.manifest["sources"] if s not in model_files]
        sources = [self.dir / s for s in sorted(model_files)] + [self.dir / "harness_main.c"]
        self.exe = self.dir / "model_host"
        self.states: list[np.ndarray] = []
        run_tool([compiler, *flags, "-I", self.dir, *sources, *objects, "-o", self.exe, "-lm"], timeout=600)

    def run(self, batches: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
        """batches[k] = the inputs of inference k (in graph order) → outputs per inference."""
        m = self.lib.manifest
        stdin = b"".join(np.ascontiguousarray(x, dtype=NUMPY_DTYPES[io["dtype"]]).tobytes()
                         for inputs in batches for x, io in zip(inputs, m["inputs"], strict=True))
        out = run_tool([self.exe], input=stdin, timeout=600).stdout
        results: list[list[np.ndarray]] = []
        self.states = []  # a stateful model's state buffer after each inference (uint8)
        state_bytes = int(m.get("state_bytes", 0))
        pos = 0
        for _ in batches:
            outs = []
            for io in m["outputs"]:
                n = io["bytes"]
                arr = np.frombuffer(out[pos:pos + n], dtype=NUMPY_DTYPES[io["dtype"]]).reshape(io["shape"])
                outs.append(arr.copy())
                pos += n
            results.append(outs)
            if state_bytes:
                self.states.append(np.frombuffer(out[pos:pos + state_bytes], dtype=np.uint8).copy())
                pos += state_bytes
        return results

    def close(self) -> None:
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> HostModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
