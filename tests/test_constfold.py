"""Compile-time evaluation (generator/constfold.py): constant subgraphs become constants, checked
against TFLite Micro (which runs them at every invoke) and for what they cost (nothing)."""

import numpy as np
import pytest
from kernel_check import check_bit_exact
from tflite_builder import Op, T, build, options, rng_int8

from mcuforge.generator.compiler import compile_graph
from mcuforge.generator.constfold import Folded, fold_constants
from mcuforge.generator.frontends.tflite import parse_model


def _i32(values, shape=None):
    a = np.array(values, dtype=np.int32)
    return T(a.shape if shape is None else shape, "int32", data=a)


def _scalar_slice(ins, out, k):
    """STRIDED_SLICE shape[k] with shrink_axis: an int32 scalar."""
    return Op("STRIDED_SLICE", ins, [out], options("StridedSliceOptions", shrinkAxisMask=1))


def shape_chain_model(shape=(1, 4, 4, 3), units=5, seed=0):
    """input -> SHAPE -> STRIDED_SLICE (batch) ; SHAPE[1] * SHAPE[2] * SHAPE[3] (MUL) -> PACK -> RESHAPE
    -> FULLY_CONNECTED, as converters write a flatten."""
    rng = np.random.default_rng(seed)
    depth = int(np.prod(shape[1:]))
    t = [T(shape, "int8", 0.05, -2),                                 # 0 input
         T((4,), "int32"),                                           # 1 shape
         _i32([0]), _i32([1]), _i32([1]),                            # 2-4 begin/end/strides of shape[0]
         T((), "int32"),                                             # 5 batch
         _i32([1]), _i32([2]), _i32([1]),                            # 6-8 shape[1]
         T((), "int32"),                                             # 9 h
         _i32([2]), _i32([3]),                                       # 10-11 shape[2]
         T((), "int32"),                                             # 12 w
         _i32([3]), _i32([4]),                                       # 13-14 shape[3]
         T((), "int32"),                                             # 15 c
         T((), "int32"), T((), "int32"),                             # 16 h*w, 17 h*w*c
         T((2,), "int32"),                                           # 18 packed shape
         T((1, depth), "int8", 0.05, -2),                            # 19 flattened
         T((units, depth), "int8", 0.01, 0, data=rng_int8(rng, (units, depth))),
         T((units,), "int32", 0.0005, 0, data=rng.integers(-3000, 3000, units).astype(np.int32)),
         T((1, units), "int8", 0.2, 4)]                              # 22 output
    ops = [Op("SHAPE", [0], [1], options("ShapeOptions")),
           _scalar_slice([1, 2, 3, 4], 5, 0), _scalar_slice([1, 6, 7, 8], 9, 1),
           _scalar_slice([1, 10, 11, 4], 12, 2), _scalar_slice([1, 13, 14, 4], 15, 3),
           Op("MUL", [9, 12], [16], options("MulOptions")), Op("MUL", [16, 15], [17], options("MulOptions")),
           Op("PACK", [5, 17], [18], options("PackOptions", valuesCount=2, axis=0)),
           Op("RESHAPE", [0, 18], [19], options("ReshapeOptions", newShape=[1, depth])),
           Op("FULLY_CONNECTED", [19, 20, 21], [22], options("FullyConnectedOptions"))]
    return build(t, ops, [0], [22])


def test_shape_chain_is_folded_and_the_reshape_is_a_view():
    model = shape_chain_model()
    graph = parse_model(model)
    cm = compile_graph(graph)
    assert [f.op.opcode for f in cm.folded] == ["SHAPE"] + ["STRIDED_SLICE"] * 4 + ["MUL", "MUL", "PACK"]
    assert [v.op.opcode for v in cm.views] == ["RESHAPE"]
    assert [c.op.opcode for c in cm.calls if c.function] == ["FULLY_CONNECTED"]
    packed = cm.graph.tensors[18]
    assert packed.is_const and packed.data.tolist() == [1, 48]
    # the RAM is the input (shared with the flattened view) and the output: no int32 shape tensors
    assert cm.plan.arena_bytes <= 48 + 16 + 16
    # nothing of the chain is emitted: the C code has one kernel call and no shape constants
    from mcuforge.generator.codegen import generate

    src = generate(cm, "m").files["m.c"].decode()
    assert src.count("mcf_fully_connected") >= 1 and "m_tensor18" not in src
    assert "/* operator 7 PACK: evaluated when compiling (a constant) */" in src
    check_bit_exact(model, paths=("fast",))


def test_folded_graph_keeps_the_operator_numbering():
    graph = parse_model(shape_chain_model())
    folded_graph, folded = fold_constants(graph)
    assert len(folded_graph.operators) == len(graph.operators)
    assert all(isinstance(f, Folded) and not f.function for f in folded)  # no C call
    assert folded_graph.operators[0].inputs == ()  # SHAPE no longer reads the input's bytes
    assert graph.tensors[1].data is None  # the original graph is untouched


def test_constant_weights_transposed_and_cast_when_compiling():
    """A TRANSPOSE of a constant weight matrix feeding FULLY_CONNECTED (PyTorch exports) and a CAST of
    constant positions feeding GATHER: both evaluated, the kernels read the results."""
    rng = np.random.default_rng(1)
    w = rng_int8(rng, (12, 4))
    t = [T((2, 12), "int8", 0.05, 3), T((12, 4), "int8", 0.01, 0, data=w), _i32([1, 0]),
         T((4, 12), "int8", 0.01, 0), T((4,), "int32", 0.0005, 0, data=np.arange(4, dtype=np.int32) * 100),
         T((2, 4), "int8", 0.1, -1),
         T((3,), "int8", data=np.array([3, 0, 2], np.int8)), T((3,), "int32"),
         T((2, 3), "int8", 0.1, -1)]
    ops = [Op("TRANSPOSE", [1, 2], [3], options("TransposeOptions")),
           Op("FULLY_CONNECTED", [0, 3, 4], [5], options("FullyConnectedOptions")),
           Op("CAST", [6], [7], options("CastOptions")),
           Op("GATHER", [5, 7], [8], options("GatherOptions", axis=1))]
    model = build(t, ops, [0], [8])
    cm = compile_graph(parse_model(model))
    assert [f.op.opcode for f in cm.folded] == ["TRANSPOSE", "CAST"]
    assert np.array_equal(cm.graph.tensors[3].data, w.T)
    check_bit_exact(model)


@pytest.mark.parametrize("opcode,ins,opts,out,want", [
    ("CONCATENATION", [_i32([1, 2]), _i32([3])], options("ConcatenationOptions", axis=0), T((3,), "int32"),
     [1, 2, 3]),
    ("GATHER", [_i32([7, 8, 9]), _i32([2, 0])], options("GatherOptions"), T((2,), "int32"), [9, 7]),
    ("SUB", [_i32([5, 6]), _i32([1])], options("SubOptions"), T((2,), "int32"), [4, 5]),
    ("ADD", [_i32([5, -6]), _i32([1])], options("AddOptions", fusedActivationFunction=1), T((2,), "int32"),
     [6, 0]),
    ("SLICE", [_i32([[1, 2, 3], [4, 5, 6]]), _i32([1, 1]), _i32([1, -1])], None, T((1, 2), "int32"), [[5, 6]]),
    ("STRIDED_SLICE", [_i32([1, 2, 3, 4, 5]), _i32([-1]), _i32([0]), _i32([-2])], None, T((2,), "int32"),
     [5, 3]),
    ("TILE", [_i32([1, 2]), _i32([3])], None, T((6,), "int32"), [1, 2, 1, 2, 1, 2]),
    ("BROADCAST_TO", [_i32([4]), _i32([2, 2])], None, T((2, 2), "int32"), [[4, 4], [4, 4]]),
    ("CAST", [_i32([300, -129])], None, T((2,), "int8"), [44, 127]),
    ("DIV", [_i32([7, -7, 6]), _i32([2])], options("DivOptions"), T((3,), "int32"), [3, -3, 3]),
    ("BROADCAST_ARGS", [_i32([3, 1]), _i32([1, 4])], None, T((2,), "int32"), [3, 4]),
    ("REVERSE_V2", [_i32([[1, 2], [3, 4]]), _i32([1])], None, T((2, 2), "int32"), [[2, 1], [4, 3]]),
])
def test_evaluators(opcode, ins, opts, out, want):
    n = len(ins)
    tensors = [T((1,), "int8", 0.1, 0), *ins, out, T((1,), "int8", 0.1, 0)]
    ops = [Op(opcode, list(range(1, n + 1)), [n + 1], opts), Op("RESHAPE", [0], [n + 2],
                                                                options("ReshapeOptions", newShape=[1]))]
    graph, folded = fold_constants(parse_model(build(tensors, ops, [0], [n + 2])))
    assert [f.op.opcode for f in folded] == [opcode]
    assert graph.tensors[n + 1].data.tolist() == want


def test_not_folded_when_the_result_is_a_graph_output_or_quantized_arithmetic():
    t = [T((2,), "int8", 0.1, 0, data=np.array([1, 2], np.int8)), T((2,), "int8", 0.1, 0, data=np.array([3, 4],
                                                                                                        np.int8)),
         T((2,), "int8", 0.2, 0), T((2,), "int8", 0.1, 0), T((2,), "int8", 0.2, 0)]
    model = build(t, [Op("ADD", [0, 1], [2], options("AddOptions")), Op("ADD", [3, 2], [4], options("AddOptions"))],
                  [3], [4])
    _, folded = fold_constants(parse_model(model))
    assert folded == []


def test_inspect_reports_what_costs_nothing(tmp_path):
    from mcuforge.generator.inspect_model import inspect_path

    path = tmp_path / "chain.tflite"
    path.write_bytes(shape_chain_model())
    rep = inspect_path(path)
    assert rep.supported and all(r.supported for r in rep.ops)
    assert rep.no_code == ["evaluated when compiling: operators 0 SHAPE, 1 STRIDED_SLICE, 2 STRIDED_SLICE, "
                           "3 STRIDED_SLICE, 4 STRIDED_SLICE, 5 MUL, 6 MUL, 7 PACK",
                           "views of their input: operator 8 RESHAPE"]
    # compiling the folded graph again changes nothing
    cm = compile_graph(compile_graph(parse_model(shape_chain_model())).graph)
    assert len(cm.folded) == 8 and len([c for c in cm.calls if c.function]) == 1


def _transpose_fc_model(shape, perm, units, seed=3, also_output=False, flatten=False):
    rng = np.random.default_rng(seed)
    out_shape = tuple(shape[p] for p in perm)
    depth = int(np.prod(shape))
    t = [T(shape, "int8", 0.05, 7), _i32(perm), T(out_shape, "int8", 0.05, 7),
         T((units, depth), "int8", list(rng.uniform(0.005, 0.02, units)), [0] * units,
           data=rng_int8(rng, (units, depth))),
         T((units,), "int32", 0.0005, 0, data=rng.integers(-3000, 3000, units).astype(np.int32)),
         T((1, units), "int8", 0.3, -6), T((1, depth), "int8", 0.05, 7)]
    ops = [Op("TRANSPOSE", [0, 1], [2], options("TransposeOptions")),
           Op("FULLY_CONNECTED", [6 if flatten else 2, 3, 4], [5], options("FullyConnectedOptions"))]
    if flatten:  # TRANSPOSE -> RESHAPE (a flatten) -> FULLY_CONNECTED, as NCHW classifiers end
        ops.insert(1, Op("RESHAPE", [2], [6], options("ReshapeOptions", newShape=[1, depth])))
    return build(t, ops, [0], [5, 2] if also_output else [5])


@pytest.mark.parametrize("shape,perm,flatten", [((1, 3, 4, 2), [0, 2, 3, 1], False), ((1, 5, 6), [0, 2, 1], True),
                                                ((4, 7), [1, 0], False), ((1, 2, 3, 4), [0, 3, 1, 2], True)])
def test_transpose_before_fully_connected_goes_into_its_weights(shape, perm, flatten):
    model = _transpose_fc_model(shape, perm, units=6, flatten=flatten)
    cm = compile_graph(parse_model(model))
    assert [v.op.opcode for v in cm.views] == ["TRANSPOSE"] + ["RESHAPE"] * flatten
    assert [c.op.opcode for c in cm.calls] == ["FULLY_CONNECTED"]
    check_bit_exact(model, paths=("fast", "portable"))


def test_transpose_read_elsewhere_stays_a_copy():
    model = _transpose_fc_model((1, 3, 4, 2), [0, 2, 3, 1], units=4, also_output=True)
    cm = compile_graph(parse_model(model))
    assert [c.op.opcode for c in cm.calls] == ["TRANSPOSE", "FULLY_CONNECTED"]
    # compiling the compiled graph again does not permute the weights twice
    again = compile_graph(compile_graph(parse_model(_transpose_fc_model((1, 5, 6), [0, 2, 1], units=3))).graph)
    check_bit_exact(model, paths=("fast",))
    assert np.array_equal(again.graph.tensors[3].data,
                          compile_graph(parse_model(_transpose_fc_model((1, 5, 6), [0, 2, 1], units=3)))
                          .graph.tensors[3].data)
