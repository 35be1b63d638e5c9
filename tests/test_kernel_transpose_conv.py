"""TRANSPOSE_CONV (int8) against TFLite Micro: strides, SAME/VALID, per-channel and per-tensor
weights, bias present or absent, fused activations, boundary zero points."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Activation, Op, Padding, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def out_size(size: int, filt: int, stride: int, padding: int) -> int:
    """The output size TensorFlow gives a transposed convolution of this input size."""
    return size * stride if padding == Padding.SAME else (size - 1) * stride + filt


def tconv_model(in_shape=(1, 4, 4, 3), oc=4, filt=(3, 3), stride=(2, 2), padding=Padding.SAME,
                per_channel=True, bias=True, act=Activation.NONE, in_zp=0, out_zp=0, seed=0, extra=(0, 0)):
    rng = np.random.default_rng(seed)
    n, h, w, ic = in_shape
    oh = out_size(h, filt[0], stride[0], padding) + extra[0]
    ow = out_size(w, filt[1], stride[1], padding) + extra[1]
    w_scale = list(rng.uniform(0.002, 0.02, oc)) if per_channel else 0.01
    tensors = [T((4,), "int32", data=np.array([n, oh, ow, oc], np.int32)),
               T((oc, *filt, ic), "int8", w_scale, [0] * oc if per_channel else 0, data=rng_int8(rng, (oc, *filt, ic))),
               T(in_shape, "int8", 0.05, in_zp),
               T((n, oh, ow, oc), "int8", 0.04 * np.sqrt(ic * filt[0] * filt[1]) / 3, out_zp)]
    inputs = [0, 1, 2]
    if bias:
        scales = [0.05 * s for s in w_scale] if per_channel else 0.0005
        tensors.insert(3, T((oc,), "int32", scales, [0] * oc if per_channel else 0,
                            data=rng.integers(-3000, 3000, oc).astype(np.int32)))
        inputs.append(3)
    opts = options("TransposeConvOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                   fusedActivationFunction=act)
    return build(tensors, [Op("TRANSPOSE_CONV", inputs, [len(tensors) - 1], opts)], [2], [len(tensors) - 1])


CASES = {
    "same_s2": {},
    "valid_s2": {"padding": Padding.VALID},
    "same_s1": {"stride": (1, 1), "in_shape": (1, 5, 6, 2)},
    "valid_s1_5x5": {"stride": (1, 1), "filt": (5, 5), "padding": Padding.VALID},
    "s3_2x2": {"stride": (3, 3), "filt": (2, 2), "in_shape": (1, 3, 4, 5)},  # taps never overlap, gaps
    "s2x1_3x2": {"stride": (2, 1), "filt": (3, 2), "in_shape": (2, 3, 5, 4), "oc": 3},  # batches
    "per_tensor": {"per_channel": False, "in_zp": -128, "out_zp": 127},
    "no_bias": {"bias": False, "in_zp": 127, "out_zp": -128},
    "relu": {"act": Activation.RELU, "out_zp": -20},
    "relu6_per_tensor": {"act": Activation.RELU6, "per_channel": False, "in_zp": 5},
    "relu_n1_to_1": {"act": Activation.RELU_N1_TO_1, "bias": False},
    "1x1_s2": {"filt": (1, 1), "in_shape": (1, 4, 3, 8), "oc": 6},
    "wide_channels": {"in_shape": (1, 3, 3, 16), "oc": 17, "filt": (4, 4)},
    "bigger_output": {"padding": Padding.VALID, "extra": (1, 1)},  # output_padding: rows no tap reaches
}


def tconv_models() -> dict[str, bytes]:
    return {f"tconv_{name}": tconv_model(**kw, seed=k) for k, (name, kw) in enumerate(CASES.items())}


def test_transpose_conv():
    check_bit_exact(merge_parallel(tconv_models()), count=3)


def test_transpose_conv_rejects_asymmetric_weights():
    rng = np.random.default_rng(0)
    tensors = [T((4,), "int32", data=np.array([1, 8, 8, 2], np.int32)),
               T((2, 3, 3, 3), "int8", 0.01, 3, data=rng_int8(rng, (2, 3, 3, 3))),
               T((1, 4, 4, 3), "int8", 0.05, 0), T((1, 8, 8, 2), "int8", 0.1, 0)]
    model = build(tensors, [Op("TRANSPOSE_CONV", [0, 1, 2], [3], options(
        "TransposeConvOptions", padding=Padding.SAME, strideH=2, strideW=2))], [2], [3])
    with pytest.raises(UnsupportedModelError, match="symmetric"):
        compile_graph(parse_model(model))


def device_models() -> dict[str, bytes]:
    """A few of these for the emulated boards (tests/test_kernels_on_device.py)."""
    names = ("same_s2", "valid_s1_5x5", "per_tensor", "relu", "s2x1_3x2")
    return {f"tconv_{name}": tconv_model(**CASES[name], seed=k) for k, name in enumerate(names)}
