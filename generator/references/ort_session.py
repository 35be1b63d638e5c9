"""How mcuforge opens onnxruntime as a reference: the one place for its session options.

Every reference session (the whole model in `onnxrt`, its optimized graph in `onnx_probe`) runs on
the CPU provider with onnxruntime's default options, except for two settings:
- `intra_op_num_threads`: the thread count the float convolutions were compiled for
  (ops/conv_fsum.py), because MLAS's K blocks depend on it;
- on a CPU whose u8 x s8 matrix kernel adds pairs of products in int16 with saturation (x86 with
  AVX2 or AVX-512 but without VNNI; `saturates_u8s8` finds out), `session.x64quantprecision=1`:
  onnxruntime's own u8 x u8 path for the same operators, which computes the exact integer sums,
  as onnxruntime does with default options on VNNI and Arm CPUs. Without it the reference would
  depend on the host CPU for models quantized with full-range weights.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..errors import ModelError
from ..ops.conv_fsum import ort_threads

PRECISION_KEY = "session.x64quantprecision"


def _onnxruntime() -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError("checking an .onnx model against onnxruntime needs the 'onnx' extra: "
                         "pip install 'mcuforge[onnx]'") from exc
    return ort


def options(*, exact: bool = True) -> Any:
    """SessionOptions of a reference run; `exact=False` keeps the default 8-bit kernel even where it
    saturates (what a plain `InferenceSession(model)` computes on this CPU)."""
    opts = _onnxruntime().SessionOptions()
    opts.log_severity_level = 3  # errors only: warnings about unused initializers are no concern here
    opts.intra_op_num_threads = ort_threads()
    if exact and saturates_u8s8():
        opts.add_session_config_entry(PRECISION_KEY, "1")
    return opts


def open_session(model_bytes: bytes, opts: Any) -> Any:
    """An onnxruntime session on the CPU provider; a model it cannot load is a ModelError."""
    ort = _onnxruntime()
    try:
        return ort.InferenceSession(model_bytes, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for invalid models
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"onnxruntime cannot load the model: {first}") from exc


@functools.lru_cache(maxsize=1)
def saturates_u8s8() -> bool:
    """Whether this onnxruntime's default u8 x s8 matrix product saturates pair sums in 16 bits:
    a [4, 8] x [8, 4] MatMulInteger of 255s and 127s sums to 259,080 exactly, to 131,068 with
    every pair saturated. False where onnxruntime cannot run the probe."""
    try:
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return False
    a = np.full((4, 8), 255, np.uint8)
    b = numpy_helper.from_array(np.full((8, 4), 127, np.int8), "b")
    graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "b"], ["y"])], "probe",
                              [helper.make_tensor_value_info("a", TensorProto.UINT8, [4, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [4, 4])], initializer=[b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    try:
        out = open_session(model.SerializeToString(), options(exact=False)).run(None, {"a": a})[0]
    except Exception:  # any failure of the probe: no claim about the kernel
        return False
    return bool(int(np.asarray(out).reshape(-1)[0]) != 8 * 255 * 127)
