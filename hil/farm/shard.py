"""Spreading test vectors over acquired places, and merging what came back.

A *job* is one project's test (its firmware, model and vectors). Its vectors are cut into small
work items; a stateful model's vectors are one stream, hence one item. Every place gets a worker
thread that takes items for its board (preferring the project it has flashed already, so it
flashes as rarely as it can), flashes when the project changes, runs the vectors and records each
result the moment it arrives. When a place faults (see faults.py) the vectors of its item that
have no result go back to the queue; each vector's result is recorded once, by one place.

The worker threads talk to their devices only. The labgrid session belongs to the calling thread:
`supervise()` pumps it, takes a place out of the run when its resources vanish, and hands each
finished place to `on_place_done` (release) as soon as its worker ends.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.generator.ir import Graph
from mcuforge.generator.ops.variable_tensors import keeps_state
from mcuforge.generator.ops.variables import is_stateful

from ..device import Device, DeviceError
from ..runner import TestReport, VectorResult, run_vectors
from . import FarmError
from .boardflash import Flasher
from .emulated import PlaceServiceError, flash_place
from .faults import LostPlace, PlaceFault, WatchedDevice
from .places import PlaceInfo


@dataclass
class Job:
    """One project's test: the firmware to flash and the vectors to run on it."""

    root: Path
    model: str  # as mcuforge.yaml names it
    board: str
    elf: Path
    graph: Graph
    model_bytes: bytes
    sha256: str
    vectors: list[tuple[str, list[np.ndarray]]]
    tolerance: float = 0.0

    @property
    def stateful(self) -> bool:
        return is_stateful(self.graph) or keeps_state(self.graph)


@dataclass
class WorkItem:
    job: int
    vectors: list[int]  # indices into the job's vectors, in order


def work_items(jobs: list[Job], places: int, largest: int = 4) -> list[WorkItem]:
    """Items small enough to spread a job over every place (and to lose little when a place
    faults), large enough that a TFLite Micro interpreter serves several vectors."""
    items = []
    for j, job in enumerate(jobs):
        n = len(job.vectors)
        size = n if job.stateful else max(1, min(largest, n // max(1, 2 * places)))
        items += [WorkItem(j, list(range(k, min(n, k + size)))) for k in range(0, n, size)]
    return items


class WorkQueue:
    """Items waiting for a place of their board; a worker waits while items of its board are
    still running elsewhere (they may come back)."""

    def __init__(self, items: list[WorkItem], boards: list[str]) -> None:
        self._cond = threading.Condition()
        self._pending: deque[WorkItem] = deque(items)
        self._boards = boards  # job index -> board
        self._running: Counter[str] = Counter()

    def take(self, board: str, prefer: int | None, stop: threading.Event) -> WorkItem | None:
        with self._cond:
            while not stop.is_set():
                mine = [it for it in self._pending if self._boards[it.job] == board]
                if mine:
                    item = next((it for it in mine if it.job == prefer), mine[0])
                    self._pending.remove(item)
                    self._running[board] += 1
                    return item
                if not self._running[board]:
                    return None
                self._cond.wait(0.2)
            return None

    def finish(self, board: str, rest: WorkItem | None) -> None:
        """The item taken for `board` is over; `rest` (its vectors without a result) is requeued."""
        with self._cond:
            self._running[board] -= 1
            if rest is not None and rest.vectors:
                self._pending.appendleft(rest)
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def leftover(self) -> list[WorkItem]:
        with self._cond:
            return list(self._pending)


class ResultStore:
    """Each vector's result, recorded once, with the place that produced it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.results: dict[tuple[int, int], tuple[VectorResult, str]] = {}
        self.duplicates = 0

    def record(self, job: int, index: int, result: VectorResult, place: str) -> None:
        with self._lock:
            if (job, index) in self.results:
                self.duplicates += 1  # never expected: a vector is in one item, an item on one place
                return
            self.results[(job, index)] = (result, place)


class PlaceWorker(threading.Thread):
    def __init__(self, info: PlaceInfo, jobs: list[Job], queue: WorkQueue, store: ResultStore, stop: threading.Event,
                 *, timeout: float = 5.0, infer_timeout: float = 120.0,
                 on_result: Callable[[Job, VectorResult, str], None] | None = None,
                 flasher: Flasher | None = None) -> None:
        super().__init__(name=f"place-{info.name}", daemon=True)
        self.info = info
        self.flasher = flasher  # prepared in the session's thread (boardflash); else the emulated place's service
        self.jobs = jobs
        self.queue = queue
        self.store = store
        self.stop = stop
        self.timeout = timeout
        self.infer_timeout = infer_timeout
        self.on_result = on_result
        self.lost = threading.Event()
        self.lost_reason = ""
        self.flashed: int | None = None
        self.device: Device | None = None
        self.vectors_run = 0
        self.error: BaseException | None = None

    def mark_lost(self, reason: str) -> None:
        if not self.lost.is_set():
            self.lost_reason = reason
            self.lost.set()

    def abort(self) -> None:
        """Unblocks the worker from another thread (its device link is closed under it): only when
        the run stops, since the worker then fails in whatever way the closed link makes it."""
        device = self.device
        if device is not None:
            device.close()

    def run(self) -> None:
        board = self.info.board or ""
        try:
            while not self.lost.is_set():
                item = self.queue.take(board, self.flashed, self.stop)
                if item is None:
                    return
                done: list[int] = []
                try:
                    self._run_item(item, done)
                except PlaceFault as exc:
                    if not self.stop.is_set():
                        self.mark_lost(str(exc))
                finally:
                    self.queue.finish(board, WorkItem(item.job, [i for i in item.vectors if i not in done]))
        except BaseException as exc:  # recorded for the caller; the thread must not die silently
            if not (self.stop.is_set() or self.lost.is_set()):  # else: its link was closed under it
                self.error = exc
        finally:
            if self.device is not None:
                self.device.close()

    def _flash(self, j: int) -> Device:
        job = self.jobs[j]
        if self.device is not None:
            self.device.close()
            self.device = None
        self.flashed = None
        if (self.flasher is None and self.info.flasher_url is None) or self.info.serial_url is None:
            raise PlaceFault("the place has no flasher or serial port mcuforge can use")
        try:
            if self.flasher is not None:
                self.flasher.flash(job.elf)
            else:
                flash_place(self.info.flasher_url or "", job.elf)
            self.device = Device.open(self.info.serial_url, timeout=self.timeout, infer_timeout=self.infer_timeout)
            self.device.hello(expect_sha256=job.sha256, wait=30.0)
        except (PlaceServiceError, FarmError, DeviceError) as exc:
            raise PlaceFault(f"flashing {job.elf.name} failed: {exc.message}") from None
        self.flashed = j
        return self.device

    def _run_item(self, item: WorkItem, done: list[int]) -> None:
        job = self.jobs[item.job]
        device = self.device if self.flashed == item.job and self.device is not None else self._flash(item.job)
        held: list[tuple[int, VectorResult]] = []  # a stream's results count only once it is complete

        def collect(result: VectorResult) -> None:
            if self.lost.is_set() or self.stop.is_set():
                raise PlaceFault("the place was taken out of the run")
            index = item.vectors[len(done) + len(held)]
            if job.stateful:
                held.append((index, result))
            else:
                self._record(item.job, index, result)
                done.append(index)

        scratch = TestReport(job.model, job.sha256, job.board, self.info.name, job.tolerance)
        run_vectors(WatchedDevice(device, self.lost), job.graph, job.model_bytes,  # type: ignore[arg-type]
                    [job.vectors[i] for i in item.vectors], scratch, on_result=collect)
        for index, result in held:
            self._record(item.job, index, result)
            done.append(index)

    def _record(self, j: int, index: int, result: VectorResult) -> None:
        self.store.record(j, index, result, self.info.name)
        self.vectors_run += 1
        if self.on_result is not None:
            self.on_result(self.jobs[j], result, self.info.name)


@dataclass
class FarmReport:
    """One run over several places: a TestReport per job (vectors in their original order), the
    place of every vector, the places lost on the way and the stale locks seen."""

    reports: list[TestReport]
    places: list[str]
    vector_places: list[list[str]]  # per job, per vector: the place that ran it ('' if none)
    lost: list[LostPlace] = field(default_factory=list)
    stale: list[Any] = field(default_factory=list)  # places.StaleLock
    seconds: float = 0.0
    duplicates: int = 0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports) and self.duplicates == 0

    def to_json(self) -> dict[str, Any]:
        reports = []
        for rep, where in zip(self.reports, self.vector_places, strict=True):
            data = rep.to_json()
            for v, place in zip(data["vectors"], where, strict=True):
                v["place"] = place
            reports.append(data)
        return {"places": self.places, "lost": [{"place": lp.place, "reason": lp.reason} for lp in self.lost],
                "stale": [{"place": s.place, "holder": s.holder, "pid": s.pid, "command": s.command}
                          for s in self.stale],
                "seconds": round(self.seconds, 3), "passed": sum(r.passed for r in self.reports),
                "failed": sum(r.failed for r in self.reports), "reports": reports}

    def write_junit(self, path: Path) -> None:
        from junitparser import JUnitXml, Property

        xml = JUnitXml("mcuforge farm")
        for rep, where in zip(self.reports, self.vector_places, strict=True):
            suite = rep.junit_suite()
            suite.add_property("places", ",".join(sorted(set(w for w in where if w))))
            if self.lost:
                suite.add_property("lost_places", "; ".join(lp.describe() for lp in self.lost))
            cases = [c for c in suite if not isinstance(c, Property)]
            for case, place in zip(cases, where, strict=True):
                case.system_out = ((case.system_out or "") + f" place={place}").strip()
            xml.add_testsuite(suite)
        xml.write(str(path), pretty=True)


def merge(jobs: list[Job], store: ResultStore, places: list[str], lost: list[LostPlace]) -> FarmReport:
    reports, where = [], []
    gone = "; ".join(lp.describe() for lp in lost)
    for j, job in enumerate(jobs):
        rep = TestReport(job.model, job.sha256, job.board, "", job.tolerance)
        rep.stream = job.stateful
        ran_on = []
        for k, (name, _) in enumerate(job.vectors):
            got = store.results.get((j, k))
            if got is None:
                rep.vectors.append(VectorResult(name, False, None, None, None, 0,
                                                f"not run: no place of board {job.board} was left"
                                                + (f" ({gone})" if gone else "")))
                ran_on.append("")
            else:
                rep.vectors.append(got[0])
                ran_on.append(got[1])
        rep.url = "labgrid:" + ",".join(sorted(set(p for p in ran_on if p)))
        reports.append(rep)
        where.append(ran_on)
    return FarmReport(reports, places, where, list(lost), duplicates=store.duplicates)


def supervise(workers: list[PlaceWorker], queue: WorkQueue, *, pump: Callable[[], None],
              still_there: Callable[[PlaceInfo], bool], on_place_done: Callable[[PlaceWorker], None]) -> None:
    """Runs in the labgrid session's thread until every worker has ended."""
    done: set[str] = set()
    for w in workers:
        w.start()
    while len(done) < len(workers):
        pump()
        for w in workers:
            if w.info.name in done:
                continue
            if w.is_alive() and not w.lost.is_set() and not still_there(w.info):
                w.mark_lost("its exporter disappeared: the coordinator no longer lists its resources")
                queue.wake()  # the worker stops at its next vector; that vector goes to another place
            if not w.is_alive():
                done.add(w.info.name)
                on_place_done(w)
        for w in workers:
            if w.error is not None:
                raise w.error
