import sys
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
