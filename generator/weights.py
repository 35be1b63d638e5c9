"""Hot weights: the layers whose constant data is read most often per byte, to copy to a fast RAM.

A weight byte of a convolution is read once per output pixel (MACs / weight bytes times per
inference), one of a fully connected layer once per batch row. `mcuforge new --place
weights=REGION --hot-weights N` puts the constant data (weights in the kernels' layout, biases,
multipliers) of the N layers with the most MACs per weight byte in REGION - for a RAM region, as
initialised data copied from flash at startup - and leaves the rest in flash.
"""

from __future__ import annotations

from .compiler import CompiledModel
from .errors import UsageError


def layer_weight_bytes(cm: CompiledModel, op_index: int) -> int:
    op = cm.graph.operators[op_index]
    return sum(cm.graph.tensors[t].nbytes for t in op.inputs if t >= 0 and cm.graph.tensors[t].is_const)


def hot_layers(cm: CompiledModel, count: int) -> tuple[int, ...]:
    """The `count` operators (with weights and MACs) with the most MACs per weight byte, hottest first."""
    if count < 1:
        raise UsageError(f"--hot-weights {count}: give the number of layers (1 or more) whose weights move")
    ranked = []
    for call in cm.calls:
        nbytes = layer_weight_bytes(cm, call.op.index)
        if call.macs and nbytes:
            ranked.append((-call.macs / nbytes, -call.macs, call.op.index))
    ranked.sort()
    return tuple(i for _, _, i in ranked[:count])
