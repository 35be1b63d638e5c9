"""Refusals, each naming its reason, for operators TFLite Micro runs and mcuforge does not.

TFLite Micro computes CEIL, FLOOR, ROUND, SQRT, SQUARE, SIN, COS, LOG, FLOOR_DIV, FLOOR_MOD and
L2_POOL_2D on float32 tensors only (its kernels check the type in Prepare), so an int8 graph holding
one cannot run there and there is nothing to be bit-exact with. Its DETECTION_POSTPROCESS (the
`TFLite_Detection_PostProcess` custom operator that ends SSD detectors) likewise takes float32 boxes
and scores only. A float32 one after the integer part is refused by name too: mcuforge's float32
tail is ADD, SUB, MUL, SOFTMAX and LOG_SOFTMAX (ops/float_arith.py). Two custom operators of
TFLite Micro are refused by name: CIRCULAR_BUFFER (a stream buffer that ends the invoke early until
enough frames have arrived) and TFLM_DECODE (its decoder of compressed weights).
"""

from __future__ import annotations

from ..ir import Graph, Operator
from .base import KernelCall, lowering, reject

FLOAT_ONLY = ("CEIL", "FLOOR", "ROUND", "SQRT", "SQUARE", "SIN", "COS", "LOG", "FLOOR_DIV", "FLOOR_MOD",
              "L2_POOL_2D")
DETECTION_POSTPROCESS = "CUSTOM:TFLite_Detection_PostProcess"
CUSTOM_REFUSALS = {
    "CUSTOM:CIRCULAR_BUFFER": "TFLite Micro's stream buffer operator, which ends the invoke early until enough "
                              "frames have arrived, is not supported; keep the frame buffering in the application",
    "CUSTOM:TFLM_DECODE": "TFLite Micro's decoder of compressed weights is not supported; give mcuforge the "
                          "model from before compression",
}


def _first_type(graph: Graph, op: Operator) -> str:
    ins = [t for t in graph.op_inputs(op) if t is not None]
    return ins[0].dtype if ins else "?"


@lowering(*FLOAT_ONLY)
def lower_float_only(graph: Graph, op: Operator) -> KernelCall:
    dtype = _first_type(graph, op)
    if dtype == "float32":
        raise reject(op, f"float32 {op.opcode} is not supported (the float32 tail after the integer part takes "
                         "ADD, SUB, MUL, SOFTMAX and LOG_SOFTMAX)")
    raise reject(op, f"TFLite Micro has no {dtype} kernel for {op.opcode} (float32 only), "
                     "so there is nothing to be bit-exact with")


@lowering(DETECTION_POSTPROCESS)
def lower_detection_postprocess(graph: Graph, op: Operator) -> KernelCall:
    dtype = _first_type(graph, op)
    where = ("TFLite Micro takes float32 boxes and scores only" if dtype != "float32"
             else "mcuforge has no kernel for this float32 box decoding and non-maximum suppression")
    raise reject(op, f"SSD post-processing is not supported ({where}); end the model at its box and score "
                     "tensors and run the decoding and non-maximum suppression in the application")


@lowering(*CUSTOM_REFUSALS)
def lower_custom_refused(graph: Graph, op: Operator) -> KernelCall:
    raise reject(op, CUSTOM_REFUSALS[op.opcode])
