"""Reference runners: the runtime each model format comes from, run on the host, which the
generated C must equal. `.tflite` models run in TFLite Micro's interpreter (`tflm`), `.onnx`
models in onnxruntime (`onnxrt`, CPU provider).
"""

from __future__ import annotations

from .base import ReferenceRunner
from .tflm import TflmReference

# The TFLite Micro reference, under the name the tests and examples use.
Reference = TflmReference


__all__ = ["Reference", "ReferenceRunner", "TflmReference"]
