"""`mcuforge test --place PATTERN --places N`: projects' vectors over every free matching place.

Places are acquired at the start and each is released (an emulated one powered off first) as
soon as its worker ends; on any exit (an error, Ctrl-C) every place still held is released too.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mcuforge.generator.build import built_project
from mcuforge.generator.frontends import read_model

from ..runner import VectorResult, load_vectors, random_vectors
from . import coordinator_address
from .acquire import acquire_places, let_go
from .boardflash import flasher_for
from .faults import LostPlace
from .places import FarmClient
from .shard import FarmReport, Job, PlaceWorker, ResultStore, WorkQueue, merge, supervise, work_items


def load_job(root: Path, *, vectors: Path | None, random: int, seed: int, tolerance: float) -> Job:
    """The project's firmware and vectors, checked before any place is acquired."""
    built = built_project(root)
    root, cfg, board, elf = built.root, built.config, built.board, built.elf
    graph = read_model(root / cfg.model)
    model_bytes = (root / cfg.model).read_bytes()
    vecs = load_vectors(graph, vectors) if vectors else []
    if random or not vectors:
        vecs += random_vectors(graph, random or 5, seed)
    return Job(root, cfg.model, board.id, elf, graph, model_bytes, hashlib.sha256(model_bytes).hexdigest(), vecs,
               tolerance)


def run_farm_test(jobs: list[Job], pattern: str, count: int, *, coordinator: str | None = None,
                  timeout: float = 5.0, on_result: Callable[[Job, VectorResult, str], None] | None = None,
                  on_event: Callable[[str], None] | None = None) -> FarmReport:
    say = on_event or (lambda _text: None)
    started = time.monotonic()
    with FarmClient(coordinator_address(coordinator)) as client:
        places, stale = acquire_places(client, pattern, count, {j.board for j in jobs})
        say(f"acquired {', '.join(p.name for p in places)} through {client.address}")
        queue = WorkQueue(work_items(jobs, len(places)), [j.board for j in jobs])
        store = ResultStore()
        stop = threading.Event()
        flashers = {}
        try:
            for p in places:  # built here: the labgrid session (and a real board's target) is this thread's
                flashers[p.name] = flasher_for(client, p)
        except BaseException:
            for f in flashers.values():
                f.close()
            for p in places:
                let_go(client, p)
            raise
        workers = [PlaceWorker(p, jobs, queue, store, stop, timeout=timeout, on_result=on_result,
                               flasher=flashers[p.name]) for p in places]
        lost: list[LostPlace] = []

        def done(w: PlaceWorker) -> None:
            let_go(client, w.info)
            if w.lost.is_set():
                lost.append(LostPlace(w.info.name, w.lost_reason))
                say(f"place {w.info.name} lost: {w.lost_reason}; released, its unfinished vectors go to other places")

        try:
            supervise(workers, queue, pump=lambda: client.pump(0.1), still_there=client.still_there,
                      on_place_done=done)
        finally:
            stop.set()
            for w in workers:
                w.abort()
            for w in workers:
                w.join(timeout=10)
            for f in flashers.values():
                f.close()
            for w in workers:
                if w.info.name in client.held():
                    let_go(client, w.info)
        report = merge(jobs, store, [p.name for p in places], lost)
        report.stale = stale
    report.seconds = time.monotonic() - started
    return report
