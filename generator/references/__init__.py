"""Reference runners: the runtime each model format comes from, run on the host, which the
generated C must equal. `.tflite` models run in TFLite Micro's interpreter (`tflm`), `.onnx`
models in onnxruntime (`onnxrt`, CPU provider). `open_reference` picks one from the model's bytes.
"""

from __future__ import annotations

from ..ir import Graph
from .base import ReferenceRunner
from .tflm import TflmReference

# The TFLite Micro reference, under the name the tests and examples use.
Reference = TflmReference


def is_tflite(model_bytes: bytes) -> bool:
    """A .tflite flatbuffer carries the file identifier "TFL3" at bytes 4..8."""
    return model_bytes[4:8] == b"TFL3"


def open_reference(model_bytes: bytes, graph: Graph | None = None, *, keep_tensors: bool = False) -> ReferenceRunner:
    """The reference runner for a model file's bytes: TFLite Micro for .tflite, else onnxruntime
    (`graph`, the IR read from the same file, lets the onnxruntime runner give tensors by index)."""
    if is_tflite(model_bytes):
        return TflmReference(model_bytes, keep_tensors=keep_tensors)
    from .onnxrt import OnnxReference
    return OnnxReference(model_bytes, graph, keep_tensors=keep_tensors)


__all__ = ["Reference", "ReferenceRunner", "TflmReference", "is_tflite", "open_reference"]
