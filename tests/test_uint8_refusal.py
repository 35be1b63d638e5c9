"""A model quantized to uint8 throughout (TensorFlow 1 style, as some published model zoos still ship
them) is refused with the reason that holds for TFLite Micro too, and its many refusals read as a
few grouped lines rather than one line per operator."""

import numpy as np
import pytest
from tflite_builder import Op, Padding, T, build, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import ModelError, UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model
from mcuforge.generator.inspect_model import grouped_refusals, inspect_graph
from mcuforge.generator.references.tflm import TflmReference
from mcuforge.generator.refusals import group_refusals


def _conv(dtype: str = "uint8") -> bytes:
    zp = 128 if dtype == "uint8" else 0
    w = np.arange(2 * 3 * 3 * 2).reshape(2, 3, 3, 2)
    return single_op("CONV_2D", [T((1, 5, 5, 2), dtype, 0.05, zp), T((2, 3, 3, 2), dtype, 0.02, 0, data=w),
                                 T((2,), "int32", 0.001, 0, data=np.array([5, -7], np.int32))],
                     [T((1, 5, 5, 2), dtype, 0.1, zp)], options("Conv2DOptions", padding=Padding.SAME,
                                                                  strideH=1, strideW=1))


def test_uint8_conv_refused_with_the_reason_tflm_has_too():
    model = _conv()
    with pytest.raises(UnsupportedModelError, match=r"operator 0 \(CONV_2D\): tensor 't0' is uint8; TFLite Micro "
                                                    r"has no uint8 CONV_2D kernel either"):
        compile_graph(parse_model(model))
    with pytest.raises(ModelError):  # the claim in the message: TFLite Micro refuses the same model
        TflmReference(model)
    TflmReference(_conv("int8"))  # while its int8 twin loads: the refusal is the type's
    compile_graph(parse_model(_conv("int8")))


def _uint8_add_chain(n: int) -> bytes:
    tensors = [T((4,), "uint8", 0.1, 128) for _ in range(n + 1)]
    return build(tensors, [Op("ADD", [k, k], [k + 1]) for k in range(n)], [0], [n])


def test_uint8_refusals_grouped_in_compile_and_inspect():
    graph = parse_model(_uint8_add_chain(8))
    with pytest.raises(UnsupportedModelError) as err:
        compile_graph(graph)
    msg = err.value.message
    assert "ADD ×8 (operators 0, 1, 2, 3, 4, 5, …): tensor '…' is uint8; TFLite Micro has no uint8 ADD" in msg
    assert "operator 7" not in msg and msg.count("uint8 ADD kernel") == 1
    assert grouped_refusals(inspect_graph(graph)) == [
        "ADD ×8 (operators 0, 1, 2, 3, 4, 5, …): tensor '…' is uint8; TFLite Micro has no uint8 ADD kernel either "
        "(convert the model again with int8 quantization)"]


def test_group_refusals_keeps_singletons_and_shared_reasons_in_full():
    msgs = ["operator 3 (TRANSPOSE): no kernel", "operator 5 (TRANSPOSE): no kernel", "operator 4 (PAD): 'x' odd",
            "graph input 'a' is string", "operator 9 (PAD): 'y' odd"]
    assert group_refusals(msgs) == ["TRANSPOSE ×2 (operators 3, 5): no kernel", "PAD ×2 (operators 4, 9): '…' odd",
                                    "graph input 'a' is string"]
    assert group_refusals(msgs[:1] + msgs[3:4]) == msgs[:1] + msgs[3:4]
