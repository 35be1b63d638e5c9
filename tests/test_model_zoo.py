"""Real public models from a corpus kept outside the repository ($MCUFORGE_MODEL_ZOO).

For every `.tflite` in the corpus (one sub-folder per source): `inspect`, `compile` and `validate`
never print a traceback; a model that compiles validates bit-exact with TFLite Micro; a model that
is refused is refused with a one-line reason and exit status 2. The corpus is never committed
(third-party models); without the variable these tests skip. `benchmarks/model_zoo.py` prints the
same survey as a table per source.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from zoo_survey import survey_module

ZOO = os.environ.get("MCUFORGE_MODEL_ZOO")


def _survey_module():
    return survey_module("model_zoo")


def _models() -> list[tuple[str, Path]]:
    if not ZOO or not Path(ZOO).is_dir():
        return []
    return _survey_module().find_models(Path(ZOO))


MODELS = _models()


@pytest.mark.slow
@pytest.mark.skipif(not MODELS, reason="set MCUFORGE_MODEL_ZOO to a folder of real .tflite models")
@pytest.mark.parametrize("source,path", MODELS, ids=[f"{s}/{p.name}" for s, p in MODELS])
def test_real_model(source: str, path: Path) -> None:
    outcome = _survey_module().survey_model(path, source, inputs=2)
    assert not outcome.crashed, f"traceback in {outcome.crashed}"
    if outcome.compiled:
        assert outcome.bit_exact, outcome.reason
    else:
        assert outcome.inspect_rc == 2, "a refused model makes inspect exit 2"
        assert outcome.reason, "a refused model gets a reason"


def test_summary_counts_per_source() -> None:
    mod = _survey_module()
    outcomes = [mod.ModelOutcome("a", "m1", compiled=True, bit_exact=True),
                mod.ModelOutcome("a", "m2", crashed=["inspect"]),
                mod.ModelOutcome("b", "m3", compiled=True)]
    assert mod.summary_rows(outcomes) == [("a", 2, 1, 1, 1), ("b", 1, 1, 0, 0), ("total", 3, 2, 1, 1)]
    text = mod.render(outcomes, markdown=True)
    assert "| a | 2 | 1 | 1 | 1 |" in text and "a/m2: CRASH in inspect" in text
