"""MAXIMUM / MINIMUM on int16 tensors (16x8 models) against TFLite Micro: same shapes, a single
value, broadcasts of ranks 2-5, different quantizations on the three tensors (never rescaled)."""

import numpy as np
from kernel_check import check_bit_exact
from test_kernels_on_device import merge_parallel
from tflite_builder import T, single_op

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.frontends.tflite import parse_model


def minmax_model(opcode, s1, s2, out, q=((0.01, 0), (0.02, 5), (0.03, -7)), const2=None):
    b = T(s2, "int16", *q[1], data=const2)
    return single_op(opcode, [T(s1, "int16", *q[0]), b], [T(out, "int16", *q[2])])


CASES = {
    "same": ((2, 9), (2, 9), (2, 9)),
    "scalar": ((1, 3, 4, 5), (1,), (1, 3, 4, 5)),
    "channels": ((1, 4, 4, 6), (6,), (1, 4, 4, 6)),
    "both_ways": ((3, 1, 5), (1, 4, 1), (3, 4, 5)),
    "rank5": ((2, 1, 3, 1, 4), (1, 2, 1, 5, 4), (2, 2, 3, 5, 4)),
}


def test_bit_exact():
    models = {f"{op.lower()}_{k}": minmax_model(op, *v) for k, v in CASES.items() for op in ("MAXIMUM", "MINIMUM")}
    models["max_const"] = minmax_model("MAXIMUM", (4, 7), (7,), (4, 7), const2=np.arange(-3, 4, dtype=np.int16) * 999)
    for name, model in models.items():
        assert compile_graph(parse_model(model)).calls[0].kernel == "binary_s16", name
    # no DSP code in this kernel: the DSP-emulated build is the fast one
    check_bit_exact(merge_parallel(models), count=3, paths=("fast", "portable"))
