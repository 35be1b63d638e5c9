"""BATCH_MATMUL (int8) against TFLite Micro: adj_x / adj_y, broadcast batch dimensions (ranks 2-5),
variable and constant rhs (the fully-connected case included), boundary zero points."""

import numpy as np
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import Op, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model


def bmm_model(lhs_shape, rhs_shape, adj_x=False, adj_y=False, const_rhs=False, zps=(0, 0, 0), seed=0):
    rng = np.random.default_rng(seed)
    rank = max(len(lhs_shape), len(rhs_shape))
    ls = (1,) * (rank - len(lhs_shape)) + tuple(lhs_shape)
    rs = (1,) * (rank - len(rhs_shape)) + tuple(rhs_shape)
    m = ls[-1] if adj_x else ls[-2]
    k = ls[-2] if adj_x else ls[-1]
    n = rs[-2] if adj_y else rs[-1]
    batch = tuple(max(a, b) for a, b in zip(ls[:-2], rs[:-2], strict=True))
    out_scale = 0.2 * np.sqrt(k)  # about 2.5 standard deviations of the products
    tensors = [T(tuple(lhs_shape), "int8", 0.05, zps[0]),
               T(tuple(rhs_shape), "int8", 0.04, zps[1], data=rng_int8(rng, tuple(rhs_shape)) if const_rhs else None),
               T((*batch, m, n), "int8", out_scale, zps[2])]
    opts = options("BatchMatMulOptions", adjX=adj_x, adjY=adj_y)
    return build(tensors, [Op("BATCH_MATMUL", [0, 1], [2], opts)], [0] if const_rhs else [0, 1], [2])


CASES = {
    "2d": ((5, 7), (7, 3), {}),
    "3d": ((2, 4, 6), (2, 6, 5), {"zps": (-128, 127, 3)}),
    "adj_x": ((2, 6, 4), (2, 6, 5), {"adj_x": True}),
    "adj_y": ((2, 4, 6), (2, 5, 6), {"adj_y": True, "zps": (127, -128, -128)}),
    "adj_xy": ((3, 6, 4), (3, 5, 6), {"adj_x": True, "adj_y": True, "zps": (5, -7, 127)}),
    "bcast_lhs": ((1, 4, 6), (3, 6, 5), {}),
    "bcast_rhs_rank": ((2, 3, 4, 6), (6, 5), {"zps": (-3, 9, 0)}),
    "bcast_both": ((2, 1, 4, 6), (1, 3, 6, 2), {"adj_x": False}),
    "bcast_rank3_vs_4": ((2, 1, 3, 5), (4, 5, 3), {}),
    "rank5": ((2, 1, 2, 3, 4), (1, 2, 1, 4, 3), {"zps": (1, 2, 3)}),
    "vector": ((1, 9), (9, 1), {}),
    "const_rhs": ((2, 3, 8), (8, 6), {"const_rhs": True, "zps": (-128, 11, -2)}),
    "const_rhs_batched_adj_x": ((2, 8, 3), (2, 8, 6), {"const_rhs": True, "adj_x": True}),
    "const_rhs_adj_y_fc": ((2, 3, 20), (7, 20), {"const_rhs": True, "adj_y": True, "zps": (127, 0, -128)}),
    "const_rhs_adj_y_fc_rank2": ((5, 33), (9, 33), {"const_rhs": True, "adj_y": True, "zps": (-20, 0, 4)}),
}


def bmm_models() -> dict[str, bytes]:
    return {f"bmm_{name}": bmm_model(lhs, rhs, **kw, seed=k) for k, (name, (lhs, rhs, kw)) in enumerate(CASES.items())}


def test_batch_matmul():
    check_bit_exact(merge_parallel(bmm_models()), count=3)


def test_constant_rhs_with_zero_point_0_runs_the_fully_connected_kernel():
    cm = compile_graph(parse_model(bmm_model((2, 3, 20), (7, 20), adj_y=True, const_rhs=True)))
    assert [c.kernel for c in cm.calls] == ["fully_connected_s8"]
    cm = compile_graph(parse_model(bmm_model((2, 3, 20), (7, 20), adj_y=True, const_rhs=True, zps=(0, 1, 0))))
    assert [c.kernel for c in cm.calls] == ["batch_matmul_s8"]


def device_models() -> dict[str, bytes]:
    """The constant-rhs cases for the emulated boards (tests/test_kernels_on_device.py: one graph input
    per branch there); the variable-rhs cases run the same C function with other strides."""
    return {f"bmm_{name}": bmm_model(*CASES[name][:2], **CASES[name][2], seed=k)
            for k, name in enumerate(("const_rhs", "const_rhs_batched_adj_x", "const_rhs_adj_y_fc"))}
