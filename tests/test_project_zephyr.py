"""Zephyr projects: generate with `new_project`, build with `build_project` (west), prove buffer
placement from the ELF, and run mps2/an385 in QEMU until the self-test line reports the checksum
`mcuforge validate` computes on the host.

These tests need a Zephyr 4.x tree and skip, saying what is missing, without one:

* ``ZEPHYR_BASE``: the ``zephyr/`` folder of a west workspace (a folder above it holds ``.west/``).
* the modules the boards use (``cmsis_6``; ``hal_stm32`` for nucleo_f746zg; ``hal_nordic`` for
  nrf52840dk), either cloned by
  ``west update`` under the workspace's ``modules/`` or listed, ``;``-separated, in
  ``EXTRA_ZEPHYR_MODULES``.
* a toolchain: by default Zephyr's ``gnuarmemb`` variant with ``GNUARMEMB_TOOLCHAIN_PATH=/usr``
  (Debian's ``gcc-arm-none-eabi``), and ``qemu-system-arm`` for the run.

With network access, ``west init -m https://github.com/zephyrproject-rtos/zephyr --mr v4.3.0 ws &&
cd ws && west update cmsis_6 hal_stm32`` makes such a workspace. Offline, as in this project's
development sandbox (see ../shared/GUIDE.md §4), it is assembled from snapshots in a folder outside
the repository; nothing of it belongs in the repository:

1. ``ws/zephyr``: the ``zephyr/`` folder of ``ucas-linux/OneWo-zepLinux`` (Zephyr 4.3.0), and
   ``ws/modules/hal/stm32``: that snapshot's ``modules/hal/stm32`` (the few blobs missing from the
   snapshot are not needed to build).
2. ``ws/modules/hal/cmsis_6``: ``zephyrproject-rtos/CMSIS_6`` at commit
   ``30a859f44ef8ab4dc8f84b03ed586fd16ccf9d74`` (the revision Zephyr 4.3's west.yml pins).
3. Stand-ins for files that snapshot's ``.gitignore`` hid: ``zephyr/drivers/i2c/target/Kconfig``
   (``menuconfig I2C_TARGET`` with ``I2C_TARGET_BUFFER_MODE`` inside) and
   ``zephyr/subsys/logging/backends/Kconfig.swo`` (``LOG_BACKEND_SWO`` depending on ``HAS_SWO``,
   with int options ``LOG_BACKEND_SWO_FREQ_HZ`` and ``LOG_BACKEND_SWO_REF_FREQ_HZ``); and, because
   the fork's AS32X601 UART driver defaults to ``y`` on every board, add
   ``depends on DT_HAS_ANSILIC_AS32X601_UART_ENABLED`` to ``zephyr/drivers/serial/Kconfig.as32x601``.
   For the Nordic boards, ``ws/modules/hal/nordic``: ``zephyrproject-rtos/hal_nordic`` at commit
   ``7858281d843468fe53c829995fb63f45a227387a`` (Zephyr 4.3's pin), e.g. ``git archive`` of a mirror
   (a snapshot without the nRF54/nRF71/nRF92 SVD and ``*_types.h`` blobs builds nRF52 boards); for the
   Argonkey microphone ``ws/modules/hal/st`` (``zephyrproject-rtos/hal_st``). List both in
   ``EXTRA_ZEPHYR_MODULES``. For esp32c3_devkitm, ``ws/modules/hal/espressif``:
   ``zephyrproject-rtos/hal_espressif`` at ``af6cfa2e3e7098b596062ab516b80a48a7ba7332`` (Zephyr 4.3's
   pin; the Wi-Fi/BLE blobs are not needed), and ``esptool>=5.0.2`` on PATH (Zephyr makes the image).
4. ``cd ws && west init -l zephyr`` (offline), and
   ``pip install west pyelftools pyyaml pykwalify packaging jsonschema anytree intelhex semver``.
5. Environment for the tests::

       export ZEPHYR_BASE=$PWD/zephyr
       M=$PWD/modules/hal
       export EXTRA_ZEPHYR_MODULES="$M/cmsis_6;$M/stm32;$M/st;$M/nordic"
       export ZEPHYR_TOOLCHAIN_VARIANT=gnuarmemb GNUARMEMB_TOOLCHAIN_PATH=/usr   # the defaults
       pytest tests/test_project_zephyr.py

   ``west build -b mps2/an385 zephyr/samples/hello_world`` from ``ws`` is a quick check of the tree.
6. Optional, for Twister (``python3 zephyr/scripts/twister -T <project> -p mps2/an385``, which
   checks sample.yaml's console regex and builds with ``-Werror``): ``pip install natsort psutil
   colorama ply junitparser tabulate python-dotenv``, and give the fork's ``kernel/sched.c`` back the
   static ``move_thread_to_end_of_prio_q()`` it still calls (dequeue if queued, queue, update_cache;
   as in upstream 4.3): without it the kernel compiles only with a warning.

Each build takes about a minute (Zephyr configures and compiles its kernel for every project).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from mcuforge.generator.build import build_project, west_workspace
from mcuforge.generator.errors import ToolError
from mcuforge.generator.scaffold import new_project
from mcuforge.generator.validate import validate_model

LINE = re.compile(rb"mcuforge: selftest model=(\w+) checksum=0x([0-9a-f]{8}) ticks=(\d+) unit=(\w+) result=(\w+)")


def _zephyr_missing(modules: tuple[str, ...]) -> str | None:
    """Why the Zephyr tests cannot run here, or None if they can."""
    base = os.environ.get("ZEPHYR_BASE")
    if not base:
        return "ZEPHYR_BASE is not set (see this module's docstring for setting up a Zephyr 4.x tree)"
    zephyr = Path(base)
    if not (zephyr / "VERSION").is_file() or not (zephyr / "cmake").is_dir():
        return f"ZEPHYR_BASE={base} is not a Zephyr tree (no VERSION file and cmake/ folder)"
    try:
        ws = west_workspace({"ZEPHYR_BASE": base})
    except ToolError as exc:
        return f"{exc.message}; {exc.hint}"
    if shutil.which("west") is None:
        return "west is not installed (pip install west)"
    variant = os.environ.get("ZEPHYR_TOOLCHAIN_VARIANT", "gnuarmemb")
    if variant == "gnuarmemb":
        gcc = Path(os.environ.get("GNUARMEMB_TOOLCHAIN_PATH", "/usr")) / "bin" / "arm-none-eabi-gcc"
        if not gcc.is_file():
            return f"no {gcc} (apt-get install gcc-arm-none-eabi, or set GNUARMEMB_TOOLCHAIN_PATH)"
    found = _zephyr_modules(ws)
    missing = [m for m in modules if m not in found]
    if missing:
        return (f"Zephyr module(s) {', '.join(missing)} not found under {ws / 'modules'} nor in "
                "EXTRA_ZEPHYR_MODULES")
    return None


def _zephyr_modules(ws: Path) -> set[str]:
    """Names of the Zephyr modules a build would see: cloned ones and EXTRA_ZEPHYR_MODULES."""
    dirs = [Path(p) for p in os.environ.get("EXTRA_ZEPHYR_MODULES", "").split(";") if p]
    dirs += [y.parent.parent for y in ws.glob("modules/**/zephyr/module.yml")]
    names = set()
    for d in dirs:
        meta = d / "zephyr" / "module.yml"
        if meta.is_file():
            names.add((yaml.safe_load(meta.read_text()) or {}).get("name") or d.name)
    return names


def _needs_zephyr(*modules: str) -> pytest.MarkDecorator:
    reason = _zephyr_missing(modules)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                    reason="needs qemu-system-arm (apt-get install qemu-system-arm)")
def test_mps2_an385_selftest_in_qemu_matches_host(models_dir: Path, tmp_path: Path) -> None:
    from mcuforge.hil.emulator import start_emulator
    from mcuforge.hil.serial_link import open_serial

    model = models_dir / "kws_ref_model.tflite"
    host = validate_model(model, count=1, seed=0)
    project = tmp_path / "zp_an385"
    p = new_project(project, model, "mps2_an385", framework="zephyr")
    res = build_project(project)
    assert res.report.symbols["arena"].region == p.placement.regions["arena"] == "sram"

    buf = b""
    with start_emulator(res.board, res.elf) as emu:
        port = open_serial(emu.url, timeout=0.5)  # keeps what QEMU printed while the link opened
        try:
            deadline = time.monotonic() + 120
            while not LINE.search(buf) and time.monotonic() < deadline and emu.alive():
                buf += port.read(256)
        finally:
            port.close()
    m = LINE.search(buf)
    assert m, f"no self-test line from the firmware; UART so far: {buf[-400:]!r}"
    assert m.group(1) == b"kws_ref_model"
    assert int(m.group(2), 16) == host.checksums[0]
    # QEMU -icount: the port counts instructions (CMSDK timer1, re-based at each reading), never "cycles".
    assert int(m.group(3)) > 0 and m.group(4) == b"instructions" and m.group(5) == b"ok"

    # The Twister check in sample.yaml accepts the very line the firmware printed.
    sample = yaml.safe_load((project / "sample.yaml").read_text())
    line = m.group(0).decode()
    assert all(re.search(rx, line) for rx in sample["common"]["harness_config"]["regex"])

    # The same firmware answers `mcuforge test` over the console UART (host protocol on Zephyr).
    from mcuforge.hil.runner import TestReport, random_vectors, run_vectors
    from mcuforge.hil.session import open_session

    with open_session(project) as s:
        report = TestReport(s.config.model, s.graph.sha256, s.board.id, s.url, 0.0)
        run_vectors(s.device, s.graph, s.model_bytes, random_vectors(s.graph, 5), report)
    assert report.ok, report.to_json()
    assert all(v.unit == "instructions" and v.elapsed and v.max_abs_diff == 0 for v in report.vectors)


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_stm32")
@pytest.mark.parametrize(("place", "region", "low", "high"), [
    (None, "dtcm", 0x2000_0000, 0x2001_0000),        # the default: the fastest RAM Zephyr can link into
    ("arena=sram", "sram", 0x2001_0000, 0x2005_0000),
])
def test_nucleo_f746zg_arena_placement_from_elf(models_dir: Path, tmp_path: Path, place: str | None,
                                                region: str, low: int, high: int) -> None:
    project = tmp_path / "zp_f746"
    p = new_project(project, models_dir / "kws_ref_model.tflite", "nucleo_f746zg", framework="zephyr",
                    place=[place] if place else None)
    assert p.placement.regions["arena"] == region
    res = build_project(project)
    arena = res.report.symbols["arena"]
    assert arena.name == "kws_ref_model_arena"
    assert arena.region == region
    assert low <= arena.address and arena.address + arena.size <= high


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("cmsis_6", "hal_nordic")
def test_nrf52840dk_model_project_builds(models_dir: Path, tmp_path: Path) -> None:
    """The model project for Zephyr's nrf52840dk/nrf52840 (hal_nordic: nrfx, the MDK headers)."""
    project = tmp_path / "zp_nrf"
    p = new_project(project, models_dir / "kws_ref_model.tflite", "nrf52840dk", framework="zephyr")
    assert p.placement.regions["arena"] == "sram"
    res = build_project(project)
    arena = res.report.symbols["arena"]
    assert arena.name == "kws_ref_model_arena" and arena.region == "sram"
    assert arena.address >= 0x2000_0000 and arena.address + arena.size <= 0x2004_0000
    config = (project / "build" / "zephyr" / ".config").read_text()
    assert "CONFIG_SOC_NRF52840_QIAA=y" in config and "CONFIG_HAS_NRFX=y" in config


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr()
@pytest.mark.skipif(shutil.which("qemu-system-riscv32") is None or shutil.which("riscv64-unknown-elf-gcc") is None,
                    reason="needs qemu-system-riscv32 and riscv64-unknown-elf-gcc "
                           "(apt-get install qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)")
def test_qemu_riscv32_passes_test_within_3_percent_of_the_cmake_flavor(models_dir: Path, tmp_path: Path) -> None:
    """kws on Zephyr's qemu_riscv32 (Debian's riscv64-unknown-elf-gcc as `cross-compile`): bit-exact
    through the host protocol, instructions (minstret) within 3 % of the bare-metal CMake build."""
    from mcuforge.hil.runner import TestReport, random_vectors, run_vectors
    from mcuforge.hil.session import open_session

    model = models_dir / "kws_ref_model.tflite"
    latency: dict[str, float] = {}
    for framework in ("zephyr", "cmake"):
        project = tmp_path / f"rv_{framework}"
        new_project(project, model, "qemu_riscv32", framework=framework)
        build_project(project)
        with open_session(project) as s:
            report = TestReport(s.config.model, s.graph.sha256, s.board.id, s.url, 0.0)
            run_vectors(s.device, s.graph, s.model_bytes, random_vectors(s.graph, 3), report)
        assert report.ok, report.to_json()
        assert all(v.unit == "instructions" and v.elapsed and v.max_abs_diff == 0 for v in report.vectors)
        latency[framework] = min(float(v.elapsed or 0) for v in report.vectors)
    assert abs(latency["zephyr"] / latency["cmake"] - 1.0) <= 0.03, latency


@pytest.mark.slow
@pytest.mark.zephyr
@_needs_zephyr("hal_espressif")
@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None or shutil.which("esptool") is None,
                    reason="needs riscv64-unknown-elf-gcc and esptool>=5.0.2 on PATH "
                           "(apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf; "
                           "pip install esptool)")
def test_esp32c3_devkitm_builds_with_the_arena_in_sram1(models_dir: Path, tmp_path: Path) -> None:
    """kws for Zephyr's esp32c3_devkitm (hal_espressif, no blobs) with Debian's riscv64-unknown-elf-gcc:
    the arena in SRAM1's data-bus window below the ROM's reserved top, the constants in flash, and
    ticks in ns (the ESP32-C3's core has no minstret)."""
    project = tmp_path / "zp_esp32c3"
    p = new_project(project, models_dir / "kws_ref_model.tflite", "esp32c3_devkitm", framework="zephyr")
    assert p.placement.regions["arena"] == "sram1"
    res = build_project(project)
    arena = res.report.symbols["arena"]
    assert arena.name == "kws_ref_model_arena" and arena.region == "sram1"
    assert arena.address >= 0x3FC8_0000 and arena.address + arena.size <= 0x3FCC_AE00  # simple boot's DRAM end
    flash = next(r for r in res.report.regions if r.name == "flash")
    assert flash.sections.get(".flash.rodata", 0) > 30_000  # the weights, loaded from flash (read via DROM)
    config = (project / "build" / "zephyr" / ".config").read_text()
    assert "CONFIG_SOC_ESP32C3=y" in config and "CONFIG_MCUFORGE_TICKS_KERNEL=y" in config
    assert "CONFIG_MCUFORGE_TICKS_INSTRUCTIONS=y" not in config
    assert (project / "build" / "zephyr" / "zephyr.bin").is_file()  # esptool's image

@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None, reason="needs riscv64-unknown-elf-gcc")
def test_riscv_boards_build_with_the_riscv_compiler_even_in_an_arm_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcuforge.generator.boards import load_board
    from mcuforge.generator.build import _zephyr_env

    monkeypatch.setenv("ZEPHYR_BASE", "/nowhere/zephyr")
    monkeypatch.setenv("ZEPHYR_TOOLCHAIN_VARIANT", "gnuarmemb")
    env = _zephyr_env(load_board("qemu_riscv32"))
    assert env["ZEPHYR_TOOLCHAIN_VARIANT"] == "cross-compile"
    assert env["CROSS_COMPILE"].endswith("riscv64-unknown-elf-")
    monkeypatch.setenv("ZEPHYR_TOOLCHAIN_VARIANT", "zephyr")  # the user's choice (the Zephyr SDK) stands
    assert _zephyr_env(load_board("qemu_riscv32"))["ZEPHYR_TOOLCHAIN_VARIANT"] == "zephyr"
    assert _zephyr_env(load_board("mps2_an385"))["ZEPHYR_TOOLCHAIN_VARIANT"] == "zephyr"
    monkeypatch.delenv("ZEPHYR_TOOLCHAIN_VARIANT")
    assert _zephyr_env(load_board("mps2_an385"))["ZEPHYR_TOOLCHAIN_VARIANT"] == "gnuarmemb"


def test_west_runs_from_the_workspace_holding_zephyr_base(tmp_path: Path) -> None:
    zephyr = tmp_path / "ws" / "zephyr"
    zephyr.mkdir(parents=True)
    with pytest.raises(ToolError, match="not inside a west workspace") as exc:
        west_workspace({"ZEPHYR_BASE": str(zephyr)})
    assert exc.value.hint and "west init -l zephyr" in exc.value.hint
    (tmp_path / "ws" / ".west").mkdir()
    assert west_workspace({"ZEPHYR_BASE": str(zephyr) + "/"}) == tmp_path / "ws"
    with pytest.raises(ToolError, match="is not a folder"):
        west_workspace({"ZEPHYR_BASE": str(tmp_path / "nowhere")})


def test_generated_zephyr_project_is_an_application_with_a_module(models_dir: Path, tmp_path: Path) -> None:
    """No Zephyr needed: the layout Zephyr users expect (checked against the real tree by the tests above)."""
    project = tmp_path / "zm"
    new_project(project, models_dir / "kws_ref_model.tflite", "mps2_an385", framework="zephyr")
    gen = project / "mcuforge_model"
    module = yaml.safe_load((gen / "zephyr" / "module.yml").read_text())
    assert module == {"name": "mcuforge_model", "build": {"cmake": ".", "kconfig": "Kconfig"}}
    cmake = (project / "CMakeLists.txt").read_text()
    assert cmake.index("list(APPEND ZEPHYR_EXTRA_MODULES ${CMAKE_CURRENT_SOURCE_DIR}/mcuforge_model)") \
        < cmake.index("find_package(Zephyr")
    assert "add_subdirectory" not in cmake and not (project / "Kconfig").exists()
    lib = (gen / "CMakeLists.txt").read_text()
    assert "if(CONFIG_MCUFORGE)" in lib and "zephyr_library_named(mcuforge_model)" in lib
    assert "if(NOT CONFIG_MCUFORGE_HOST)" in lib and "-fstack-usage -fcallgraph-info=su" in lib
    # The model library at -O2 (after Zephyr's -Os), as in the cmake flavor: the same kernel code and
    # the same instruction counts in both (mps2_an386: within 0.06 % for kws, vww, resnet and ad01).
    assert "zephyr_library_compile_options(-O2)" in lib
    kconfig = (gen / "Kconfig").read_text()
    for option in ("menuconfig MCUFORGE", "config MCUFORGE_HOST\n", "config MCUFORGE_PROFILE",
                   "config MCUFORGE_HOST_STACK_SIZE", "config MCUFORGE_TICKS_INSTRUCTIONS",
                   "select UART_INTERRUPT_DRIVEN"):
        assert option in kconfig, option
    assert "default y" in kconfig.split("config MCUFORGE_EMULATED")[1].split("help")[0]  # an emulated board
    conf = (project / "prj.conf").read_text()
    assert "CONFIG_MAIN_STACK_SIZE=" in conf and "CONFIG_MCUFORGE_HOST_STACK_SIZE=" in conf
    assert "CONFIG_FPU" not in conf  # the Cortex-M3 has none
    main = (project / "src" / "main.c").read_text()
    assert "mcf_host_serve" not in main and "mcf_model_lock();" in main and "k_sleep" in main
    port = (gen / "ports" / "zephyr" / "mcf_port_zephyr.c").read_text()
    assert "uart_irq_callback_user_data_set" in port and "mcf_zephyr_host_wait(&rx_ready)" in port
    assert "K_THREAD_DEFINE(mcf_host_thread" in (gen / "ports" / "zephyr" / "mcf_zephyr.c").read_text()
    workflow = (project / ".github" / "workflows" / "hil.yml").read_text()
    assert "west init -l zm" in workflow and "west update" in workflow and "ZEPHYR_BASE" in workflow
    assert yaml.safe_load(workflow)["jobs"]["emulated"]["runs-on"] == "ubuntu-latest"
    farm = yaml.safe_load(workflow)["jobs"]["farm"]  # the farm job, in the west workspace's layout
    runs = "\n".join(step.get("run", "") for step in farm["steps"])
    assert "west init -l zm" in runs and "mcuforge farm serve --board mps2_an385:2" in runs
    assert 'mcuforge test ws/zm --place "$PLACE" --places 2' in runs and "pytest ws/zm/hil_tests" in runs
    board = tmp_path / "zb"  # a board on USB: the farm job runs on a labgrid runner when LG_COORDINATOR is set
    new_project(board, models_dir / "kws_ref_model.tflite", "nucleo_f746zg", framework="zephyr")
    farm = yaml.safe_load((board / ".github" / "workflows" / "hil.yml").read_text())["jobs"]["farm"]
    # a Cortex-M with an FPU uses it, as the bare-metal build (-mfloat-abi=hard) and PlatformIO do
    assert "CONFIG_FPU=y\nCONFIG_FPU_SHARING=y" in (board / "prj.conf").read_text()
    assert farm["runs-on"] == ["self-hosted", "labgrid"] and "--lg-env ws/zb/lg-env.yaml" in farm["steps"][-2]["run"]


def test_zephyr_layout_reads_the_modules_and_options_of_a_build(tmp_path: Path) -> None:
    from mcuforge.generator.build import zephyr_layout

    (tmp_path / "zephyr").mkdir()
    (tmp_path / "zephyr_modules.txt").write_text('"cmsis_6":"/ws/modules/cmsis_6":"${ZEPHYR_CMSIS_6_CMAKE_DIR}"\n'
                                                 '"mcuforge_model":"/p/mcuforge_model":"/p/mcuforge_model"\n')
    (tmp_path / "zephyr" / ".config").write_text("CONFIG_MCUFORGE=y\n# CONFIG_MCUFORGE_HOST is not set\n"
                                                 "CONFIG_MAIN_STACK_SIZE=840\nCONFIG_MCUFORGE_HOST_RX_BUFFER_SIZE=1024\n")
    modules, options = zephyr_layout(tmp_path)
    assert modules == {"cmsis_6": "/ws/modules/cmsis_6", "mcuforge_model": "/p/mcuforge_model"}
    assert options == {"CONFIG_MCUFORGE": "y", "CONFIG_MCUFORGE_HOST": "n",
                       "CONFIG_MCUFORGE_HOST_RX_BUFFER_SIZE": "1024"}
    assert zephyr_layout(tmp_path / "none") == ({}, {})
