"""MEAN and SUM with int16 data: reduce.py checks the operator and computes the groups and the
requantization for both types (TFLite Micro's QuantizedMeanOrSum is one template for int8 and
int16); this points its call at the int16 kernel."""

from __future__ import annotations

from dataclasses import replace

from .base import KernelCall


def as_int16(call: KernelCall) -> KernelCall:
    return replace(call, kernel="mean_s16", function="mcf_mean_s16", params_type="mcf_mean_s16_params",
                   comment=call.comment + ", int16")
