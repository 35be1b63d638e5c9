"""Streaming test models with resource variables, in the style of microWakeWord.

`ring_model`: a ring buffer of the last `rows` input frames kept in a variable. Each invoke reads
it (READ_VARIABLE), appends the new frame (CONCATENATION), classifies the whole window
(FULLY_CONNECTED) and writes back the newest `rows` frames (ASSIGN_VARIABLE). Without
STRIDED_SLICE the oldest frame is dropped by a 2-tall depthwise convolution whose weights are
[0, 1] with an identity requantization: output row h is input row h + 1, exactly. A second
variable accumulates the frames (ADD) and is never initialised by CALL_ONCE, so it starts at its
zero point, as TFLite Micro fills it. The CALL_ONCE initialiser (subgraph 1) assigns the ring a
constant, non-uniform initial window.
"""

from __future__ import annotations

import numpy as np
from tflite_builder import Activation, Op, Padding, Subgraph, T, build, options

X_SCALE, X_ZP = 0.05, -2


def ring_model(rows: int = 3, width: int = 8, outputs: int = 4, seed: int = 0, *, initialiser: bool = True,
               accumulator: bool = True, late_read: bool = False) -> bytes:
    """`late_read`: the accumulator's old value is used again after the new one is assigned (the
    second output is old + new), so its READ_VARIABLE must copy; otherwise reads are in place."""
    rng = np.random.default_rng(seed)
    q = {"scale": X_SCALE, "zero_point": X_ZP}
    tensors = [
        T((1, 1, 1, width), "int8", **q, name="frame"),                                    # 0 input
        T((), "resource", name="ring_handle"),                                             # 1
        T((1, rows, 1, width), "int8", **q, name="ring"),                                  # 2
        T((1, rows + 1, 1, width), "int8", **q, name="window"),                            # 3
        T((1, 2, 1, width), "int8", [1.0] * width, [0] * width, axis=3,
          data=np.concatenate([np.zeros((1, 1, 1, width)), np.ones((1, 1, 1, width))], axis=1).astype(np.int8),
          name="shift_weights"),                                                           # 4
        T((width,), "int32", [X_SCALE] * width, [0] * width, data=np.zeros(width, np.int32), name="shift_bias"),
        T((1, rows, 1, width), "int8", **q, name="ring_next"),                             # 6
        T((1, (rows + 1) * width), "int8", **q, name="flat"),                              # 7
        T((outputs, (rows + 1) * width), "int8", 0.02, 0,
          data=rng.integers(-127, 127, (outputs, (rows + 1) * width), endpoint=True).astype(np.int8),
          name="fc_weights"),                                                              # 8
        T((outputs,), "int32", X_SCALE * 0.02, 0, data=rng.integers(-500, 500, outputs).astype(np.int32),
          name="fc_bias"),                                                                 # 9
        T((1, outputs), "int8", 0.6, 3, name="scores"),                                    # 10 output
        T((2,), "int32", data=np.array([1, (rows + 1) * width], np.int32), name="flat_shape"),  # 11
    ]
    ops = [
        Op("VAR_HANDLE", [], [1], options("VarHandleOptions", container=b"", sharedName=b"ring/states")),
        Op("READ_VARIABLE", [1], [2]),
        Op("CONCATENATION", [2, 0], [3], options("ConcatenationOptions", axis=1)),
        Op("DEPTHWISE_CONV_2D", [3, 4, 5], [6],
           options("DepthwiseConv2DOptions", padding=Padding.VALID, strideW=1, strideH=1, depthMultiplier=1,
                   fusedActivationFunction=Activation.NONE, dilationWFactor=1, dilationHFactor=1)),
        Op("ASSIGN_VARIABLE", [1, 6], []),
        Op("RESHAPE", [3, 11], [7]),
        Op("FULLY_CONNECTED", [7, 8, 9], [10], options("FullyConnectedOptions")),
    ]
    outs = [10]
    if accumulator:
        base = len(tensors)
        tensors += [T((), "resource", name="acc_handle"), T((1, 1, 1, width), "int8", 0.2, 5, name="acc"),
                    T((1, 1, 1, width), "int8", 0.2, 5, name="acc_next")]
        ops += [Op("VAR_HANDLE", [], [base], options("VarHandleOptions", sharedName=b"acc")),
                Op("READ_VARIABLE", [base], [base + 1]),
                Op("ADD", [base + 1, 0], [base + 2], options("AddOptions")),
                Op("ASSIGN_VARIABLE", [base, base + 2], [])]
        outs.append(base + 2)
        if late_read:
            tensors.append(T((1, 1, 1, width), "int8", 0.3, -1, name="acc_old_plus_new"))
            ops.append(Op("ADD", [base + 1, base + 2], [base + 3], options("AddOptions")))
            outs[-1] = base + 3
    subgraphs = []
    if initialiser:
        ops.insert(0, Op("CALL_ONCE", [], [], options("CallOnceOptions", initSubgraphIndex=1)))
        initial = rng.integers(-128, 127, (1, rows, 1, width), endpoint=True).astype(np.int8)
        subgraphs.append(Subgraph(
            [T((), "resource", name="ring_handle"), T((1, rows, 1, width), "int8", **q, data=initial, name="ring0")],
            [Op("VAR_HANDLE", [], [0], options("VarHandleOptions", container=b"", sharedName=b"ring/states")),
             Op("ASSIGN_VARIABLE", [0, 1], [])]))
    return build(tensors, ops, [0], outs, subgraphs=subgraphs)
