import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Activation, T, options, rng_int8, single_op


@pytest.mark.parametrize("batches,depth,units,per_channel,act,in_zp", [
    (1, 16, 8, False, Activation.NONE, 0),
    (1, 640, 128, False, Activation.RELU, -3),
    (3, 33, 7, True, Activation.RELU6, 17),
    (2, 5, 1, True, Activation.NONE, -128),
])
def test_fully_connected(batches, depth, units, per_channel, act, in_zp):
    rng = np.random.default_rng(depth * units)
    w_scale = list(rng.uniform(0.001, 0.02, units)) if per_channel else 0.01
    w = T((units, depth), "int8", w_scale, [0] * units if per_channel else 0, data=rng_int8(rng, (units, depth)))
    bias = T((units,), "int32", [0.05 * s for s in w_scale] if per_channel else 0.0005, 0,
             data=rng.integers(-5000, 5000, units).astype(np.int32))
    model = single_op(
        "FULLY_CONNECTED",
        [T((batches, depth), "int8", 0.05, in_zp), w, bias],
        [T((batches, units), "int8", 0.2, 5)],
        options("FullyConnectedOptions", fusedActivationFunction=act),
    )
    check_bit_exact(model)


def test_fully_connected_without_bias():
    rng = np.random.default_rng(1)
    model = single_op(
        "FULLY_CONNECTED",
        [T((1, 20), "int8", 0.1, 2), T((4, 20), "int8", 0.01, 0, data=rng_int8(rng, (4, 20)))],
        [T((1, 4), "int8", 0.3, -1)],
        options("FullyConnectedOptions"),
    )
    # optional bias omitted: -1 in the operator inputs
    from tflite_builder import Op, build

    tensors = [T((1, 20), "int8", 0.1, 2), T((4, 20), "int8", 0.01, 0, data=rng_int8(rng, (4, 20))),
               T((1, 4), "int8", 0.3, -1)]
    model = build(tensors, [Op("FULLY_CONNECTED", [0, 1, -1], [2], options("FullyConnectedOptions"))], [0], [2])
    check_bit_exact(model)
