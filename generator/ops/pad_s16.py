"""PAD and PADV2 with int16 data: pad.py checks the operator and simplifies the shape for both
types (TFLite Micro pads int16 with 0, or with PADV2's raw int16 constant); this points its call at
the int16 kernel, whose parameters count int16 elements."""

from __future__ import annotations

from dataclasses import replace

from .base import KernelCall


def as_int16(call: KernelCall) -> KernelCall:
    return replace(call, kernel="pad_s16", function="mcf_pad_s16", params_type="mcf_pad_s16_params",
                   comment=call.comment + ", int16")
