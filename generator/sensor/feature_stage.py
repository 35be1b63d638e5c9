"""The feature-stage interface of a sensor pipeline, and the registry of the stages there are.

A feature module (features.py: MFCC) registers its stages here on import; the pipeline (pipeline.py)
looks the ``features: {kind: …}`` of mcuforge.yaml up here. Neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

__all__ = ["FEATURE_STAGES", "FeatureFactory", "FeatureStage", "register_feature_stage"]


class FeatureStage(Protocol):
    """A stage between the scaled window and the quantization (e.g. MFCC for audio models).

    Host side: ``output_elements`` is what the stage produces (the model input's element count);
    ``reference(window)`` maps one window, float32 ``[W * C]`` in the pipeline's layout, to float32
    features ``[output_elements]`` exactly as the device does. Device side: ``c_macros()`` are
    written into mcf_sensor_config.h and must define ``MCF_SENSOR_FEATURE_INCLUDE`` (a quoted
    header name), ``MCF_SENSOR_FEATURE_RUN(window, out)`` (a statement computing ``float out[]``
    from ``const float window[]``) and may define more; ``c_sources`` are runtime/sensor files
    copied into the project (e.g. ``("mcf_mfcc.c", "mcf_mfcc.h")``) and ``c_files()`` files
    written next to them (file name → text, e.g. the stage's constant tables); ``ram_bytes`` is the
    static RAM the stage adds."""

    kind: str

    @property
    def output_elements(self) -> int: ...

    @property
    def ram_bytes(self) -> int: ...

    @property
    def c_sources(self) -> tuple[str, ...]: ...

    def reference(self, window: np.ndarray) -> np.ndarray: ...

    def c_macros(self) -> dict[str, str]: ...

    def c_files(self) -> dict[str, str]: ...


#: kind → factory(params, rate_hz, window, channels, layout) returning a FeatureStage.
FeatureFactory = Callable[[dict[str, Any], float, int, int, str], FeatureStage]
FEATURE_STAGES: dict[str, FeatureFactory] = {}


def register_feature_stage(kind: str, factory: FeatureFactory) -> None:
    """Makes ``features: {kind: <kind>, …}`` available (feature modules call this on import)."""
    FEATURE_STAGES[kind] = factory
