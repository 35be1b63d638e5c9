"""Real quantized ONNX models from a corpus kept outside the repository ($MCUFORGE_ONNX_ZOO).

For every `.onnx` in the corpus (benchmarks/onnx_zoo.py lists them): `compile` and `validate`
never print a traceback; a model that compiles is within one quantization step of onnxruntime on
every output, with the same top-1. Without the variable these tests skip (CI has no corpus; the
models are third-party or exported from third-party code and never committed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from zoo_survey import survey_module

ZOO = os.environ.get("MCUFORGE_ONNX_ZOO")


def _survey_module():
    return survey_module("onnx_zoo")


def _models() -> list[Path]:
    if not ZOO or not Path(ZOO).is_dir():
        return []
    return _survey_module().find_models(Path(ZOO))


MODELS = _models()


@pytest.mark.slow
@pytest.mark.skipif(not MODELS, reason="set MCUFORGE_ONNX_ZOO to a folder of quantized .onnx models")
@pytest.mark.parametrize("path", MODELS, ids=[p.name for p in MODELS])
def test_onnx_model_compiles_and_matches_onnxruntime(path: Path):
    pytest.importorskip("onnxruntime")
    out = _survey_module().survey_model(path, inputs=2)
    assert not out.crashed, f"traceback in {out.crashed}"
    if not out.compiled:
        assert out.reason, "a refusal must give a reason"
        pytest.skip(f"refused: {out.reason}")
    assert out.inputs == 2, out.reason
    assert out.max_steps <= 1, f"{out.max_steps} steps; first difference {out.first_difference}"
    assert out.top1 == out.inputs
