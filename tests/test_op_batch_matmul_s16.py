"""BATCH_MATMUL on int16 operands (16x8 models) against TFLite Micro: 2-D, adj_x / adj_y, batch
broadcasts up to rank 5, a constant rhs, scales that rescale up and down; zero points refused."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, options, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.errors import UnsupportedModelError
from mcuforge.generator.frontends.tflite import parse_model


def bmm_model(ls, rs, out, adj_x=False, adj_y=False, q=(0.002, 0.001, 0.05), zp=0, const_rhs=False):
    rng = np.random.default_rng(len(ls) + len(rs))
    data = rng.integers(-32768, 32767, size=rs, endpoint=True).astype(np.int16) if const_rhs else None
    return single_op("BATCH_MATMUL", [T(ls, "int16", q[0], zp), T(rs, "int16", q[1], 0, data=data)],
                     [T(out, "int16", q[2], 0)], options("BatchMatMulOptions", adjX=adj_x, adjY=adj_y))


CASES = {
    "plain": ((3, 5), (5, 4), (3, 4), False, False),
    "adj_x": ((6, 3), (6, 2), (3, 2), True, False),
    "adj_y": ((2, 4, 7), (2, 5, 7), (2, 4, 5), False, True),
    "both_adj_bcast": ((3, 1, 6, 4), (1, 2, 5, 6), (3, 2, 4, 5), True, True),
    "rank5": ((2, 1, 3, 2, 5), (1, 2, 1, 5, 3), (2, 2, 3, 2, 3), False, False),
}


def test_bit_exact():
    models = {k: bmm_model(*v) for k, v in CASES.items()}
    models["const_rhs_fine"] = bmm_model((4, 16), (16, 6), (4, 6), q=(0.0003, 0.0002, 0.00001), const_rhs=True)
    models["coarse_out"] = bmm_model((2, 3, 8), (8, 3), (2, 3, 3), q=(0.01, 0.02, 7.5))
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls[0].function == "mcf_batch_matmul_s16", name
    # no DSP code in this kernel: the DSP-emulated build is the fast one
    check_bit_exact(merge_parallel(models), count=3, paths=("fast", "portable"))


def test_zero_point_refused():
    with pytest.raises(UnsupportedModelError, match=r"BATCH_MATMUL.*zero point 4"):
        compile_graph(parse_model(bmm_model((3, 5), (5, 4), (3, 4), zp=4)))
