import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # test helpers (tflite_builder, kernel_check) import by name

MODELS_DIR = Path(__file__).resolve().parents[2] / "shared" / "models"
MODEL_NAMES = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]


@pytest.fixture(scope="session")
def models_dir() -> Path:
    import os

    d = Path(os.environ.get("MCUFORGE_MODELS_DIR", MODELS_DIR))
    if not d.is_dir():
        pytest.skip(f"reference models not found in {d} (set MCUFORGE_MODELS_DIR)")
    return d


@pytest.fixture(scope="session", autouse=True)
def shared_host_objects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pytest-xdist's workers share the host builds' compiled runtime kernels (generator/hostbuild.py),
    in this run's temporary folder: each kernel is compiled once per set of flags, not once per worker."""
    import os

    if "PYTEST_XDIST_WORKER" not in os.environ or "MCUFORGE_HOST_OBJECTS" in os.environ:
        yield  # one process: its own cache is the whole run's
        return
    os.environ["MCUFORGE_HOST_OBJECTS"] = str(tmp_path_factory.getbasetemp().parent / "host-objects")
    try:
        yield
    finally:
        del os.environ["MCUFORGE_HOST_OBJECTS"]


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(SlowModulesFirst(), "mcuforge-slow-modules-first")


GROUPED = re.compile(r"mark\.slow\b|scope=[\"'](module|session)[\"']")


class SlowModulesFirst:
    """`pytest -n N` (scripts/test.sh: -n auto): each module that holds slow tests (firmware
    builds, emulators) or module fixtures goes whole to one worker, the largest first; then the
    other tests one by one.

    pytest-xdist's default distribution hands out runs of consecutive tests, ever shorter towards
    the end, where (in alphabetical order) the emulator modules are: split over both workers, each
    builds the module's firmware fixtures, and the run ends with one worker waiting for the other's
    emulator test. (--dist loadgroup would need pytest-xdist to rename test ids, which it cannot
    under pytest 9.) Only scheduling changes: every test still runs, in its module's order."""

    @staticmethod
    def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
        if config.getvalue("dist") != "load":  # another --dist mode is left as it is
            return None
        from xdist.scheduler import LoadScopeScheduling

        grouped: dict[str, bool] = {}

        class Scheduling(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                module = nodeid.split("::")[0]
                if module not in grouped:
                    path = config.rootpath / module
                    grouped[module] = path.is_file() and GROUPED.search(path.read_text(errors="replace")) is not None
                return module if grouped[module] else nodeid

        return Scheduling(config, log)
