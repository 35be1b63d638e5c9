"""Per-layer profile, host side: rows from a device profile, the tables, the JSON, and
Device.profile() against a scripted device (lost frames recovered, firmware without profiling
refused with the hint). The emulated end-to-end test is in test_profile_on_device.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends import read_model
from mcuforge.hil import protocol as p
from mcuforge.hil.device import Device, DeviceError, ProfileUnavailable
from mcuforge.hil.profile import ProfileRun, layer_rows, profile_on_device, render_markdown, render_table

SHA = bytes(range(32))


@pytest.fixture(scope="module")
def kws(models_dir: Path):  # type: ignore[no-untyped-def]
    return compile_graph(read_model(models_dir / "kws_ref_model.tflite"))


def fake_ticks(cm) -> list[int]:  # type: ignore[no-untyped-def]
    return [0 if not hasattr(s, "function") else 1000 + 10 * i for i, s in enumerate(cm.steps)]


def test_rows_join_the_device_ticks_with_the_model(kws) -> None:  # type: ignore[no-untyped-def]
    ticks = fake_ticks(kws)
    rows = layer_rows(kws, ticks)
    assert [r.index for r in rows] == list(range(len(kws.graph.operators)))
    assert [r.ticks for r in rows] == ticks
    assert abs(sum(r.share for r in rows) - 1) < 1e-9
    reshape = next(r for r in rows if r.op == "RESHAPE")
    assert reshape.alias and reshape.kernel is None and reshape.ticks == 0 and reshape.macs == 0
    conv = rows[0]
    assert conv.op == "CONV_2D" and conv.macs == 320_000 and conv.kernel and conv.output_shape == [1, 25, 5, 64]
    assert conv.per_mac == pytest.approx(1000 / 320_000)
    assert sum(r.macs for r in rows) == kws.macs


def test_a_profile_of_another_model_is_refused(kws) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DeviceError, match=r"profiled 3 operators; kws_ref_model\.tflite has 13") as info:
        layer_rows(kws, [1, 2, 3])
    assert "stale" in (info.value.hint or "")


def test_the_empty_region_is_subtracted_from_each_operator(kws) -> None:  # type: ignore[no-untyped-def]
    # the device's last value is an empty region measured like an operator: one counter reading
    ticks = fake_ticks(kws)
    rows = layer_rows(kws, [*ticks, 120])
    assert [r.ticks for r in rows] == ticks  # as measured
    assert [r.net for r in rows] == [t - 120 if t else 0 for t in ticks]  # aliases stay 0
    assert rows[0].per_mac == pytest.approx((1000 - 120) / 320_000)
    assert abs(sum(r.share for r in rows) - 1) < 1e-9
    small = layer_rows(kws, [*[min(t, 100) for t in ticks], 120])
    assert all(r.net == 0 for r in small)  # within one tick of the reading: never negative
    run = ProfileRun(rows, "instructions", sum(ticks) + 200, model="kws_ref_model.tflite", board="mps2_an386")
    assert run.calibration == 120 and run.net_total == run.total - 120 * sum(1 for r in rows if not r.alias)
    assert run.overhead == 80  # the call and the first reading: elapsed less the operators and the empty region
    md = render_markdown(run)
    assert "| # | op | output | MACs | instructions (net) | instructions/MAC | share |" in md
    assert "| 0 | CONV_2D | 1×25×5×64 | 320,000 | 880 | 0.00 |" in md
    assert "measured minus an empty measured region (a counter reading with nothing to time, 120 instructions" in md
    data = run.to_json()
    assert data["calibration"] == 120 and data["layers"][0]["net"] == 880 and data["layers"][0]["ticks"] == 1000


def test_tables_and_json(kws) -> None:  # type: ignore[no-untyped-def]
    run = ProfileRun(layer_rows(kws, fake_ticks(kws)), "instructions", sum(fake_ticks(kws)) + 80,
                     model="kws_ref_model.tflite", board="mps2_an386")
    assert run.overhead == 80
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(render_table(run))
    text = console.export_text()
    assert "per-layer profile: kws_ref_model.tflite on mps2_an386" in text
    assert "RESHAPE (alias)" in text and "DEPTHWISE_CONV_2D" in text
    caption = " ".join(text.split())  # the caption wraps
    assert f"sum of operators {run.total:,} instructions net ({run.total:,} measured); invoke() measured " \
        f"{run.elapsed:,}" in caption
    assert run.calibration is None and "include one counter reading" in caption  # older firmware: nothing subtracted
    md = render_markdown(run)
    assert md.count("\n| ") == len(kws.graph.operators) and "| 10 | RESHAPE (alias) | 1×64 | 0 | 0 | - |" in md
    top = render_markdown(run, top=3).splitlines()
    assert [line.split(" | ")[0] for line in top[2:5]] == ["| 12", "| 11", "| 9"]  # longest first
    data = json.loads(json.dumps(run.to_json()))
    assert data["total"] == run.total and data["overhead"] == 80 and len(data["layers"]) == 13
    assert data["layers"][10]["alias"] is True and data["layers"][0]["per_mac"] == pytest.approx(1000 / 320_000)


# ---- Device.profile() against a scripted device -------------------------------------------------


class ScriptedLink:
    """A pyserial stand-in: answers HELLO_REQ and PROFILE_REQ like firmware with `ticks` would, and
    drops the device frames listed in `drop` (counted over every device frame sent)."""

    def __init__(self, ticks: list[int] | None, *, max_payload: int = 128, drop: tuple[int, ...] = (),
                 refuse: bool = False) -> None:
        self.ticks = ticks
        self.max_payload = max_payload
        self.drop = set(drop)
        self.refuse = refuse
        self.rx = bytearray()
        self.dev_seq = 0
        self.sent = 0
        self.requests: list[p.Message] = []
        self.decoder = p.FrameDecoder()
        self.timeout = 0.01
        self.port = "scripted://"

    @property
    def in_waiting(self) -> int:
        return len(self.rx)

    def read(self, n: int = 1) -> bytes:
        out = bytes(self.rx[:n])
        del self.rx[:n]
        return out

    def close(self) -> None:
        pass

    def emit(self, msg: p.Message) -> None:
        frame = p.encode_frame(msg, self.dev_seq)
        self.dev_seq = (self.dev_seq + 1) % 256
        if self.sent not in self.drop:
            self.rx += frame
        self.sent += 1

    def write(self, data: bytes) -> int:
        for msg in self.decoder.feed(data):
            assert isinstance(msg, p.Message)
            self.requests.append(msg)
            if isinstance(msg, p.HelloRequest):
                flags = p.HelloFlags.PROFILE if self.ticks is not None else p.HelloFlags.NONE
                self.emit(p.Hello(version=1, flags=flags, req_seq=msg.seq, max_payload=self.max_payload,
                                  num_inputs=0, num_outputs=0, tick_unit=p.TickUnit.INSTRUCTIONS, tick_hz=0,
                                  arena_bytes=0, io_bytes=0, weights_bytes=0, sha256=SHA, engine=p.ENGINE_AOT,
                                  board="scripted", model_name="m"))
            elif isinstance(msg, p.ProfileRequest):
                if self.refuse or self.ticks is None:
                    self.emit(p.ErrorReport(req_seq=msg.seq, req_type=p.MsgType.PROFILE_REQ,
                                            code=p.ErrorCode.NO_PROFILE, text="built without MCF_PROFILE"))
                    continue
                n = len(self.ticks)
                count = msg.count or n - msg.first
                step = (self.max_payload - 6) // 4
                for k in range(msg.first, msg.first + count, step):
                    part = tuple(self.ticks[k:min(k + step, msg.first + count)])
                    self.emit(p.ProfileData(req_seq=msg.seq, tick_unit=p.TickUnit.INSTRUCTIONS, num_ops=n,
                                            first=k, ticks=part))
                self.emit(p.Ack(req_seq=msg.seq, req_type=p.MsgType.PROFILE_REQ, value=count))
        return len(data)


def test_device_profile_reads_every_operator() -> None:
    ticks = [7 * i for i in range(100)]
    link = ScriptedLink(ticks)
    dev = Device(link, timeout=0.2)  # type: ignore[arg-type]
    prof = dev.profile()
    assert prof.ticks == ticks and prof.unit == "instructions" and prof.retries == 0 and prof.total == sum(ticks)


def test_device_profile_asks_again_for_lost_frames() -> None:
    ticks = [i + 1 for i in range(100)]  # 30 per frame at MAX 128: frames 0-29, 30-59, 60-89, 90-99
    link = ScriptedLink(ticks, drop=(2, 4))  # HELLO is frame 0: lose operators 30-59 and 90-99
    dev = Device(link, timeout=0.2)  # type: ignore[arg-type]
    prof = dev.profile()
    assert prof.ticks == ticks and prof.retries == 2
    asked = [(m.first, m.count) for m in link.requests if isinstance(m, p.ProfileRequest)]
    assert asked == [(0, 0), (30, 30), (90, 10)]


def test_firmware_without_profile_is_refused_with_the_hint() -> None:
    dev = Device(ScriptedLink(None), timeout=0.2)  # type: ignore[arg-type]
    with pytest.raises(ProfileUnavailable) as info:
        dev.profile()
    assert "profile: true" in (info.value.hint or "") and "mcuforge update" in (info.value.hint or "")
    assert not [m for m in dev.link.requests if isinstance(m, p.ProfileRequest)]  # type: ignore[attr-defined]
    with pytest.raises(ProfileUnavailable):
        profile_on_device(dev, None, [])  # type: ignore[arg-type]  # refused before anything runs


def test_device_refusing_profile_req_is_profile_unavailable() -> None:
    dev = Device(ScriptedLink([1, 2], refuse=True), timeout=0.2)  # type: ignore[arg-type]
    with pytest.raises(ProfileUnavailable, match="MCF_PROFILE"):
        dev.profile()


@pytest.mark.parametrize(("board", "framework", "rel", "needle"), [
    ("mps2_an386", "cmake", "mcuforge_model/CMakeLists.txt",
     "target_compile_definitions(mcf_model PUBLIC MCF_PROFILE=1)"),
    # Zephyr: the model module's Kconfig option CONFIG_MCUFORGE_PROFILE defaults to what mcuforge.yaml says
    # (its CMakeLists.txt adds MCF_PROFILE=1 when the option is set)
    ("mps2_an385", "zephyr", "mcuforge_model/Kconfig",
     "config MCUFORGE_PROFILE\n\tbool \"Per-operator profile\"\n\tdefault y"),
    ("nucleo_f746zg", "platformio", "lib/mcuforge_model/library.json", "-DMCF_PROFILE=1"),
])
def test_every_flavor_compiles_the_profile_in_only_when_asked(tmp_path: Path, board: str, framework: str, rel: str,
                                                               needle: str) -> None:
    from mcuforge.generator.scaffold import load_config, new_project, update_project

    model = Path(__file__).resolve().parents[1] / "examples" / "models" / "gesture_mlp_int8.tflite"
    project = tmp_path / "p"
    new_project(project, model, board, framework=framework)
    assert needle not in (project / rel).read_text() and not load_config(project).profile
    yaml_file = project / "mcuforge.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("profile: false", "profile: true"))
    update_project(project)
    text = (project / rel).read_text()
    assert needle in text
    if rel.endswith(".json"):
        json.loads(text)
