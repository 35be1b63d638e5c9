"""The board farm end to end on loopback: a labgrid coordinator, `mcuforge farm serve` with three
emulated mps2_an385 places, one labgrid exporter per place, and `mcuforge test --place` sharding two
projects' vectors over them; a lost exporter, Ctrl-C, a killed run's stale lock, `pytest --lg-env`,
and `--place` without labgrid."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from junitparser import JUnitXml, Property

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "examples" / "models" / "gesture_mlp_int8.tflite"



def lg_tool(name: str) -> str | None:
    """A labgrid program: on PATH, or beside this Python (a venv that is not activated)."""
    beside = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside) if beside.is_file() else None)


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")
                            and shutil.which("ninja") and lg_tool("labgrid-coordinator")
                            and lg_tool("labgrid-exporter")),
                       reason="needs arm-none-eabi-gcc, ninja, qemu-system-arm and labgrid (mcuforge[farm])"),
]

PLACES = ["emu-0", "emu-1", "emu-2"]


def mcuforge(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcuforge.generator.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def popen(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            **kw)  # type: ignore[call-overload]


class Streamed:
    """`mcuforge ARGS` whose stdout and stderr lines are read as they come, each with the moment it
    arrived (both pipes drained by threads: nothing is lost in a half-read buffer, nothing blocks)."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = popen(sys.executable, "-m", "mcuforge.generator.cli", *args, env=env)
        self.out: list[tuple[float, str]] = []
        self.err: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self._ended = 0
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, lines: list[tuple[float, str]]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._cond:
                lines.append((time.monotonic(), line))
                self._cond.notify_all()
        with self._cond:
            self._ended += 1
            self._cond.notify_all()

    def wait_for(self, seen: object, timeout: float) -> bool:
        """Until `seen()` holds (True) or the command's output has ended or `timeout` passed (False)."""
        with self._cond:
            self._cond.wait_for(lambda: seen() or self._ended == 2, timeout)  # type: ignore[operator]
            return bool(seen())  # type: ignore[operator]

    def finish(self, timeout: float) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=30)
        return rc

    @property
    def stdout(self) -> str:
        with self._cond:
            return "".join(line for _, line in self.out)

    @property
    def stderr(self) -> str:
        with self._cond:
            return "".join(line for _, line in self.err)


def result_times(lines: list[tuple[float, str]]) -> dict[str, list[float]]:
    """Per place, the moments its vectors' results arrived (the `pass|FAIL  model vector on PLACE` lines)."""
    out: dict[str, list[float]] = {}
    for at, line in lines:
        m = re.search(r"\b(?:pass|FAIL)\b.*\son (\S+)\s+latency", line)
        if m:
            out.setdefault(m.group(1), []).append(at)
    return out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qemu_running(workdir: str) -> list[int]:
    """Emulators started from the service's work folder that are still alive."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "qemu-system" in cmd and workdir in cmd:
            pids.append(int(proc.name))
    return pids


@dataclass
class Farm:
    address: str
    tmp: Path
    workdir: str
    env: dict[str, str]
    exporters: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def start_exporter(self, place: str) -> None:
        self.exporters[place] = popen(str(lg_tool("labgrid-exporter")), "-c", self.address, "--name", f"x-{place}",
                                      "--hostname", "127.0.0.1", str(self.tmp / f"exp-{place}.yaml"), env=self.env)

    def client(self):  # type: ignore[no-untyped-def]
        from mcuforge.hil.farm.places import FarmClient

        return FarmClient(self.address)

    def wait_available(self, names: list[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while True:
                c.pump(0.2)
                if all(n in c.session.places and c.info(n).available for n in names):
                    return
                assert time.monotonic() < deadline, [c.info(n) for n in names if n in c.session.places]

    def acquired(self) -> dict[str, str | None]:
        with self.client() as c:
            c.pump(0.2)
            return {n: c.session.places[n].acquired for n in PLACES}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two projects for mps2_an385: the demo model and ad01 (or the demo model again without the
    reference models)."""
    tmp = tmp_path_factory.mktemp("farm-projects")
    models_dir = Path(os.environ.get("MCUFORGE_MODELS_DIR", ROOT.parent / "shared" / "models"))
    second = models_dir / "ad01_int8.tflite"
    out = []
    for name, model in (("demo", DEMO_MODEL), ("second", second if second.is_file() else DEMO_MODEL)):
        for cmd in (("new", str(tmp / name), "--model", str(model), "--board", "mps2_an385"),
                    ("build", str(tmp / name))):
            proc = mcuforge(*cmd)
            assert proc.returncode == 0, proc.stderr
        out.append(tmp / name)
    return out


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    pytest.importorskip("labgrid")
    tmp = tmp_path_factory.mktemp("farm")
    address = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, LG_COORDINATOR=address)
    coordinator = popen(str(lg_tool("labgrid-coordinator")), "-l", address, cwd=str(tmp), env=env)
    service = popen(sys.executable, "-m", "mcuforge.generator.cli", "farm", "serve", "--board", "mps2_an385:3",
                    "--exporter-config", str(tmp / "exp.yaml"), "--split", env=env)
    farm = None
    try:
        assert service.stdout is not None
        ready = json.loads(service.stdout.readline())
        assert sorted(ready["places"]) == PLACES
        farm = Farm(address, tmp, ready["workdir"], env)
        for p in PLACES:
            farm.start_exporter(p)
        deadline = time.monotonic() + 30
        while True:  # the coordinator needs a moment before it takes clients
            try:
                client = farm.client()
                break
            except Exception:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        with client:
            for p in PLACES:
                client.create_place(p, f"*/{p}/*")
        farm.wait_available(PLACES)
        yield farm
    finally:
        for proc in [*(farm.exporters.values() if farm else []), service, coordinator]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if farm is not None:
            assert not qemu_running(farm.workdir), "the service left an emulator running"


def junit_cases(path: Path) -> list[tuple[str, str, str, bool]]:
    """(suite, case, place, passed) of every test case in a JUnit file."""
    out = []
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            if isinstance(case, Property):
                continue
            place = (case.system_out or "").rsplit("place=", 1)[-1]
            out.append((suite.name, case.name, place, case.is_passed))
    return out


def test_two_models_sharded_over_three_places(farm: Farm, projects: list[Path], tmp_path: Path) -> None:
    """Every place takes vectors and the three work at the same time. (Not checked by wall-clock
    time against one place after another: on a loaded 2-core runner three emulators share the
    cores, and the farm run took 6.7 s against 6.4 s.)"""
    junit = tmp_path / "farm.xml"
    run = Streamed("test", *map(str, projects), "--place", "emu", "--places", "3", "--random", "20",
                   "--junit", str(junit), env=farm.env)
    assert run.finish(timeout=600) == 0, run.stdout + run.stderr
    assert "3 places (emu-0, emu-1, emu-2)" in run.stdout, run.stdout + run.stderr
    cases = junit_cases(junit)
    assert len(cases) == 40 and all(c[3] for c in cases)
    assert len({(c[0], c[1]) for c in cases}) == 40, "a vector counted twice"
    for suite in JUnitXml.fromfile(str(junit)):
        for case in suite:
            if not isinstance(case, Property):
                out = case.system_out or ""
                assert re.search(r"elapsed=\d+ instructions .*max_abs_diff=0(\.0)? ", out), out
    # each place's results arrive in a window [first, last]: the three windows share a moment, so all
    # three places were running vectors at once (one place after another would give disjoint windows)
    times = result_times(run.out)
    per_place = Counter(c[2] for c in cases)
    assert sorted(times) == PLACES and {p: len(t) for p, t in times.items()} == per_place, (per_place, run.stdout)
    first = max(min(t) for t in times.values())
    last = min(max(t) for t in times.values())
    print(f"vectors per place {dict(sorted(per_place.items()))}, all three busy together for {last - first:.2f} s")
    assert first < last, f"the places did not work at the same time: {per_place}, {run.stdout}"
    assert not any(farm.acquired().values())


def test_lost_exporter_and_ctrl_c(farm: Farm, projects: list[Path], tmp_path: Path) -> None:
    junit = tmp_path / "lost.xml"
    run = Streamed("test", *map(str, projects), "--place", "emu", "--places", "3", "--random", "20",
                   "--junit", str(junit), env=farm.env)
    try:
        # emu-0's exporter goes away once emu-0 has a result (before that, on a loaded machine, the
        # run could end with emu-0 never having worked); a reply timeout may have taken it out first
        working = run.wait_for(lambda: "emu-0" in result_times(run.out) or "place emu-0 lost" in run.stderr,
                               timeout=300)
        assert run.stderr.startswith("acquired emu-0, emu-1, emu-2"), run.stderr
        assert working, "emu-0 took no vector and was not lost: " + run.stdout + run.stderr
        farm.exporters["emu-0"].kill()
        rc = run.finish(timeout=300)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
        farm.exporters["emu-0"].wait()
    out, err = run.stdout, run.stderr
    assert rc == 0, out + err
    assert "place emu-0 lost: " in err, err + out[-2000:]
    for suite in JUnitXml.fromfile(str(junit)):
        assert any(p.name == "lost_places" and "place emu-0 lost" in p.value for p in suite.properties())
    cases = junit_cases(junit)
    assert len(cases) == 40 and all(c[3] for c in cases)
    assert len({(c[0], c[1]) for c in cases}) == 40, "a vector counted twice"
    assert {c[2] for c in cases} - {"emu-0"}, "no vector moved to another place"
    assert not any(farm.acquired().values())
    assert not qemu_running(farm.workdir)

    farm.start_exporter("emu-0")
    farm.wait_available(PLACES)

    # Ctrl-C in the middle of a farm run: every place released, no emulator left
    run = popen(sys.executable, "-m", "mcuforge.generator.cli", "test", *map(str, projects), "--place", "emu",
                "--places", "3", "--random", "20", env=farm.env)
    try:
        assert run.stdout is not None
        for line in run.stdout:
            if line.startswith("pass"):
                break
        run.send_signal(signal.SIGINT)
        run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130
    assert not any(farm.acquired().values())
    assert not qemu_running(farm.workdir)


def test_lg_env_pytest_and_stale_lock(farm: Farm, projects: list[Path], tmp_path: Path) -> None:
    # a generated project's hil_tests/, unchanged, against an emulated place through labgrid
    env_file = tmp_path / "env.yaml"
    env_file.write_text(f"targets:\n  main:\n    resources:\n      RemotePlace: {{name: emu-1}}\n"
                        f"options:\n  coordinator_address: {farm.address}\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--lg-env", str(env_file), str(projects[0] / "hil_tests"),
                           "--mcuforge-project", str(projects[0])],
                          capture_output=True, text=True, timeout=300, env=farm.env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
    assert not any(farm.acquired().values())

    # a run killed outright leaves its place locked: detected, with the command that frees it
    run = popen(sys.executable, "-m", "mcuforge.generator.cli", "run", str(projects[0]), "--place", "emu-2",
                "--count", "0", env=farm.env)
    try:
        assert run.stdout is not None
        assert run.stdout.readline().startswith("[0]")
    finally:
        run.kill()
        run.wait()
    proc = mcuforge("farm", "places", "--json", env=farm.env)
    assert proc.returncode == 0, proc.stderr
    stale = json.loads(proc.stdout)["stale"]
    assert [s["place"] for s in stale] == ["emu-2"] and stale[0]["pid"] == run.pid
    assert stale[0]["command"] == "labgrid-client -p emu-2 release"
    proc = mcuforge("test", str(projects[0]), "--place", "emu-2", env=farm.env)
    assert proc.returncode == 2 and "labgrid-client -p emu-2 release" in proc.stderr
    client, *args = stale[0]["command"].split()
    free = subprocess.run([str(lg_tool(client)), *args], capture_output=True, text=True, env=farm.env, timeout=60)
    assert free.returncode == 0, free.stderr
    assert not any(farm.acquired().values())


def test_place_without_labgrid_says_how_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['labgrid'] = None; from mcuforge.generator.cli import main; "
            "sys.argv = ['mcuforge', 'test', '.', '--place', 'emu']; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "pip install 'mcuforge[farm]'" in proc.stderr and "Traceback" not in proc.stderr


def test_board_that_stops_answering_is_taken_out(projects: list[Path]) -> None:
    """No labgrid here: two emulated places and the sharding alone. One board freezes (its QEMU
    stopped) in the middle of the run: its place is lost, its vectors end on the other, once each."""
    import threading

    from mcuforge.generator.boards import load_board
    from mcuforge.hil.farm.emulated import EmulatedPlaces, serve, service_url
    from mcuforge.hil.farm.places import PlaceInfo
    from mcuforge.hil.farm.shard import PlaceWorker, ResultStore, WorkQueue, merge, supervise, work_items
    from mcuforge.hil.farm.testrun import load_job

    board = load_board("mps2_an385", [])
    places = EmulatedPlaces([("a", board), ("b", board)])
    server = serve(places)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = service_url(server)
        infos = [PlaceInfo(n, board.id, f"socket://127.0.0.1:{p.uart_port}", f"{url}/place/{n}", None, "", True)
                 for n, p in places.places.items()]
        jobs = [load_job(projects[0], vectors=None, random=20, seed=3, tolerance=0.0)]
        queue = WorkQueue(work_items(jobs, 2, largest=2), [j.board for j in jobs])
        store = ResultStore()
        frozen: list[int] = []

        def freeze(job: object, result: object, place: str) -> None:
            emu = places.places["a"].emulator
            if place == "a" and not frozen and emu is not None:
                frozen.append(emu.proc.pid)
                os.kill(emu.proc.pid, signal.SIGSTOP)

        stop = threading.Event()
        # a short reply timeout on the place that freezes (found out in 2 s); the default on the other,
        # which a loaded machine must not take out
        workers = [PlaceWorker(i, jobs, queue, store, stop, timeout=0.5 if i.name == "a" else 5.0, on_result=freeze)
                   for i in infos]
        lost = []
        supervise(workers, queue, pump=lambda: time.sleep(0.05), still_there=lambda i: True,
                  on_place_done=lambda w: lost.append((w.info.name, w.lost_reason)) if w.lost.is_set() else None)
        report = merge(jobs, store, ["a", "b"], [])
        assert frozen, "place a never produced a result"
        assert [name for name, _ in lost] == ["a"], lost
        assert report.ok and report.duplicates == 0 and len(report.reports[0].vectors) == 20
        assert report.vector_places[0].count("a") >= 1 and report.vector_places[0].count("b") >= 10
    finally:
        server.shutdown()
        places.close()


def test_killed_service_leaves_no_emulator(projects: list[Path]) -> None:
    """`farm serve` killed outright (SIGKILL, no clean-up of its own): its emulators die with it."""
    from mcuforge.generator.farm_cli import _project_board_elf
    from mcuforge.hil.farm.emulated import flash_place

    service = popen(sys.executable, "-m", "mcuforge.generator.cli", "farm", "serve", "--board", "mps2_an385:2",
                    "--prefix", "doomed")
    workdir = ""
    try:
        assert service.stdout is not None
        ready = json.loads(service.stdout.readline())
        workdir = ready["workdir"]
        _, elf = _project_board_elf(projects[0])
        for name in ready["places"]:  # each started from the service's request threads
            flash_place(f"{ready['url']}/place/{name}", elf)
        time.sleep(0.5)  # the request threads have ended: the emulators must outlive them
        assert len(qemu_running(workdir)) == 2
        service.kill()
        service.wait(timeout=10)
        deadline = time.monotonic() + 10
        while qemu_running(workdir) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not qemu_running(workdir), "an emulator outlived its killed service"
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        for pid in qemu_running(workdir) if workdir else []:
            os.kill(pid, signal.SIGKILL)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


FAKE_SSH = """#!{python}
# stands in for ssh to 127.0.0.1: labgrid runs the exporter host's tools through ssh; here they run locally
import os, sys
args = sys.argv[1:]
if "-O" in args:  # control-master check / cancel / exit: an existing master
    sys.exit(0)
i = 0
while i < len(args) and args[i].startswith("-"):
    i += 2 if len(args[i]) == 2 and args[i][1] in "oBbcDEeFIiJLlmOpQRSWw" else 1
command = args[i + 1:]
if command[:1] == ["--"]:
    command = command[1:]
if not command:
    sys.exit(0)
os.execvp("sh", ["sh", "-c", " ".join(command)])
"""

FLASH_SCRIPT = """#!{python}
# the board's flashing tool on the exporter's host: here it hands the firmware to an emulated place
import sys, urllib.request
url, elf = sys.argv[1], sys.argv[2]
with open({log!r}, "a") as log:
    log.write("script " + elf + "\\n")
request = urllib.request.Request(url + "/firmware", data=open(elf, "rb").read(), method="PUT")
urllib.request.urlopen(request, timeout=60).read()
"""

FAKE_OPENOCD = """#!{python}
# openocd on the exporter's host, as labgrid's OpenOCDDriver calls it: `program FILE` goes to the place
import sys, urllib.request
args = sys.argv[1:]
for command in [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--command"]:
    if command.startswith("program "):
        elf = command.split()[1]
        with open({log!r}, "a") as log:
            log.write("openocd " + elf + "\\n")
        request = urllib.request.Request({url!r} + "/firmware", data=open(elf, "rb").read(), method="PUT")
        urllib.request.urlopen(request, timeout=60).read()
"""


def test_real_board_place_flashed_through_labgrid_drivers(farm: Farm, projects: list[Path], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A place exported as a real board is (NetworkUSBFlashableDevice, NetworkUSBDebugger,
    NetworkSerialPort; no mcuforge resource): flashed by labgrid's FlashScriptDriver or OpenOCDDriver,
    as $LG_ENV configures them. Its board is emu-2's QEMU: the script (and a stand-in openocd) hand
    the ELF to the emulated-place service; ssh to the exporter's host (127.0.0.1) is a local
    stand-in, so no sshd is needed."""
    import yaml

    emu = yaml.safe_load((farm.tmp / "exp-emu-2.yaml").read_text())["emu-2"]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "flashed.log"
    for path, text in ((bindir / "ssh", FAKE_SSH), (tmp_path / "flash.py", FLASH_SCRIPT),
                       (bindir / "openocd", FAKE_OPENOCD)):
        path.write_text(text.format(python=sys.executable, log=str(log), url=emu["MCUForgeEmulator"]["url"]))
        path.chmod(0o755)
    (farm.tmp / "exp-hw-0.yaml").write_text(yaml.safe_dump({"hw-0": {
        "NetworkSerialPort": emu["NetworkSerialPort"],
        "NetworkUSBFlashableDevice": {"host": "127.0.0.1", "busnum": None, "devnum": None, "path": "1-1",
                                      "vendor_id": None, "model_id": None, "devnode": emu["MCUForgeEmulator"]["url"]},
        "NetworkUSBDebugger": {"host": "127.0.0.1", "busnum": None, "devnum": None, "path": "1-2",
                               "vendor_id": None, "model_id": None},
    }}))
    (tmp_path / "openocd.yaml").write_text(yaml.safe_dump({"targets": {"hw-0": {
        "resources": {"RemotePlace": {"name": "hw-0"}},
        "drivers": {"OpenOCDDriver": {"load_commands": ["init", "program {filename} verify reset", "shutdown"]}}}}}))
    (tmp_path / "env.yaml").write_text(yaml.safe_dump({
        "targets": {"hw-0": {"resources": {"RemotePlace": {"name": "hw-0"}},
                             "drivers": {"FlashScriptDriver": {"script": "flash",
                                                               "args": ["{device.devnode}", "{firmware}"]}}}},
        "images": {"flash": str(tmp_path / "flash.py")}}))
    env = dict(farm.env, PATH=f"{bindir}{os.pathsep}{farm.env.get('PATH', '')}", LG_ENV=str(tmp_path / "env.yaml"))
    farm.start_exporter("hw-0")
    try:
        with farm.client() as c:
            c.create_place("hw-0", "*/hw-0/*", tags={"board": "mps2_an385"})
        farm.wait_available(["hw-0"])
        proc = mcuforge("test", str(projects[0]), "--place", "hw-0", "--random", "5", "--json", env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads(proc.stdout)
        assert report["passed"] == 5 and report["places"] == ["hw-0"]
        elf = str(projects[0] / "build" / "firmware.elf")
        assert log.read_text().splitlines() == [f"script {elf}"], "not flashed (once) through the flash script"
        proc = mcuforge("run", str(projects[0]), "--place", "hw-0", "--count", "1",  # hold_place, OpenOCD
                        env=dict(env, LG_ENV=str(tmp_path / "openocd.yaml")))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert log.read_text().splitlines() == [f"script {elf}", f"openocd {elf}"]
        # `pytest --lg-env` is checked on an emulated place (test_lg_env_pytest_and_stale_lock); a nested
        # `pytest --lg-env` on this place hung in full suite runs under xdist (passing alone): not run
        # here until that is understood.
        # without a driver configured for it, the place says how to flash it
        from mcuforge.hil.farm import FarmError
        from mcuforge.hil.farm.boardflash import flasher_for

        monkeypatch.delenv("LG_ENV", raising=False)
        with farm.client() as c:
            c.pump(0.2)
            assert not c.session.places["hw-0"].acquired
            c.acquire("hw-0")
            info = c.info("hw-0")
            assert info.probe in ("NetworkUSBFlashableDevice", "NetworkUSBDebugger") and info.flasher_url is None
            with pytest.raises(FarmError) as exc:
                flasher_for(c, info)
            assert "NetworkUSBFlashableDevice" in exc.value.message and "$LG_ENV" in (exc.value.hint or "")
    finally:
        exporter = farm.exporters.pop("hw-0")
        exporter.send_signal(signal.SIGTERM)
        try:
            exporter.wait(timeout=15)
        except subprocess.TimeoutExpired:
            exporter.kill()
            exporter.wait()
