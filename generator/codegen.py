"""Code generation: CompiledModel → a self-contained C99 library.

Writes, into one folder:
  <name>.h       the API: init/invoke, IO tensor pointers, shapes, scales, zero points
  <name>.c       the arena (and the state buffer of a stateful model), the straight-line list
                 of kernel calls, init / reset_state / invoke
  <name>_data.c  weights, biases and precomputed quantization tables, all `const`
  runtime files  the kernels the model uses, plus their shared headers
  mcuforge_model.json  a manifest (files, plan, IO) for the scaffolder and the HIL tools
The output is deterministic: same model and options, same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .compiler import CompiledModel
from .errors import UsageError
from .ir import Tensor
from .ops.base import Alias, ConstArray, ConstRef, FastOr, KernelCall, ScratchRef, StateRef
from .resources import runtime_dir

C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float",
           "uint32": "uint32_t", "uint64": "uint64_t", "bool": "uint8_t"}
DTYPE_ENUM = {"int8": "MCF_DTYPE_INT8", "uint8": "MCF_DTYPE_UINT8", "int16": "MCF_DTYPE_INT16",
              "int32": "MCF_DTYPE_INT32", "float32": "MCF_DTYPE_FLOAT32"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_C_KEYWORDS = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
               "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
               "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
               "volatile", "while"}


def check_prefix(prefix: str) -> str:
    if not _IDENT.match(prefix) or prefix in _C_KEYWORDS or prefix.startswith("mcf_"):
        raise UsageError(f"--prefix {prefix!r} is not usable as a C identifier prefix",
                         hint="use letters, digits and underscores, starting with a letter, e.g. --prefix kws")
    return prefix


def c_float(x: float) -> str:
    s = f"{float(np.float32(x)):.9g}"
    if not any(ch in s for ch in ".en"):
        s += ".0"
    return s + "f"


def _c_values(values: np.ndarray, ctype: str, per_line: int = 16) -> str:
    flat = values.reshape(-1)
    items = [c_float(v) for v in flat.tolist()] if ctype == "float" else [str(int(v)) for v in flat.tolist()]
    if ctype == "int32_t":  # INT32_MIN cannot be written as a literal
        items = ["(-2147483647 - 1)" if v == "-2147483648" else v for v in items]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "    " + ",\n    ".join(lines) if lines else "    0"


def kernels_used(cm: CompiledModel) -> list[str]:
    """runtime/kernels/<name>.c files the model needs: its calls', and the state copies of a
    stateful model (init and reset_state use them even when invoke copies nothing)."""
    return sorted({c.kernel for c in cm.calls if c.kernel} | ({"variables"} if cm.state.bytes else set()))


@dataclass
class GeneratedLibrary:
    prefix: str
    files: dict[str, bytes] = field(default_factory=dict)  # relative path → contents
    manifest: dict = field(default_factory=dict)


FLOAT_BUILD_NOTE = {"hw": " (builds with an FPU: MCF_FSUM_INT 0)", "int": " (builds without an FPU: MCF_FSUM_INT 1)"}


class _ConstData:
    """The model's constant arrays (weights, biases, parameter tables, initial state), each written
    once into <prefix>_data.c and declared `extern` in <prefix>.c; some exist only in builds with
    (or without) the fast kernel paths."""

    def __init__(self, prefix: str, hot_tensors: set[int], hot_ops: frozenset[int]) -> None:
        self.p = prefix
        self.hot_tensors = hot_tensors
        self.hot_ops = hot_ops
        self.hot_syms: set[str] = set()
        self.weights: dict[int, str] = {}  # const tensor index → C symbol
        self.decls: list[str] = []  # extern declarations for <prefix>.c
        # definitions for <prefix>_data.c: symbol → (text, bytes, build): build "all", "fast",
        # "portable", "float_hw" or "float_int"
        self.defs: dict[str, tuple[str, int, str]] = {}
        self.portable_only: set[str] = set()  # tensors read only through FastOr so far
        self.any_build: set[str] = set()  # tensors some call reads in every build

    def weight_symbol(self, t: Tensor, *, portable_only: bool = False) -> str:
        if t.index not in self.weights:
            assert t.data is not None
            sym = f"{self.p}_tensor{t.index}"
            self.weights[t.index] = sym
            self.add(sym, C_TYPES[t.dtype], t.data, f"tensor {t.index} '{t.name}' {list(t.shape)}",
                     hot=t.index in self.hot_tensors)
        sym = self.weights[t.index]
        (self.portable_only if portable_only else self.any_build).add(sym)
        return sym

    def add(self, sym: str, ctype: str, values: np.ndarray, comment: str, build: str = "all",
            hot: bool = False) -> None:
        n = max(int(values.size), 1)
        self.decls.append(f"extern const {ctype} {sym}[{n}];")
        attr = "MCF_HOT_WEIGHTS_ATTR" if hot else "MCF_WEIGHTS_ATTR"
        if hot:
            self.hot_syms.add(sym)
        self.defs[sym] = (f"/* {comment} */\nconst {ctype} {sym}[{n}] {attr} = {{\n"
                          f"{_c_values(values, ctype)}\n}};\n", int(values.nbytes), build)

    def call_const(self, call: KernelCall, arr: ConstArray) -> str:
        """The C expression a parameter or argument uses for `arr` (its symbol, or for a
        float_build array the macro that reads 0 in the other kind of build)."""
        sym = f"{self.p}_op{call.op.index}_{arr.name}"
        note = " (layout of the fast kernel paths)" if arr.fast_only else ""
        note += FLOAT_BUILD_NOTE.get(arr.float_build, "")
        build = "fast" if arr.fast_only else (f"float_{arr.float_build}" if arr.float_build else "all")
        assert not (arr.fast_only and arr.float_build), "one build guard per array"
        self.add(sym, arr.ctype, np.asarray(arr.values), f"operator {call.op.index} {call.op.opcode}: {arr.name}{note}",
                 build, hot=call.op.index in self.hot_ops)
        return f"MCF_FSUM_{arr.float_build.upper()}_ONLY({sym})" if arr.float_build else sym

    def build_of(self, sym: str) -> str:
        """Which builds define `sym`: a tensor read only through FastOr exists in portable builds."""
        build = self.defs[sym][2]
        if sym in self.portable_only and sym not in self.any_build:
            return "portable"
        return build

    def const_bytes(self, only: set[str] | None = None, float_kind: str | None = None) -> tuple[int, int]:
        """Bytes of constant data (of the symbols in `only`, if given) in (fast, portable) builds; of
        the float_hw / float_int arrays those of `float_kind` ("hw", "int"), or the larger of the two."""
        defs = [(sym, size, self.build_of(sym)) for sym, (_, size, _) in self.defs.items()
                if only is None or sym in only]
        floats = max(sum(size for _, size, b in defs if b == f"float_{kind}")
                     for kind in ((float_kind,) if float_kind else ("hw", "int")))
        fast = sum(size for _, size, b in defs if b in ("all", "fast")) + floats
        portable = sum(size for _, size, b in defs if b in ("all", "portable")) + floats
        return fast, portable

    def file(self, banner: str) -> str:
        """<prefix>_data.c."""
        guards = {"fast": "#if MCF_KERNELS_FAST\n", "portable": "#if !MCF_KERNELS_FAST\n",
                  "float_hw": "#if !MCF_FSUM_INT\n", "float_int": "#if MCF_FSUM_INT\n"}
        defs = []
        for sym, (text, _, _) in self.defs.items():
            build = self.build_of(sym)
            defs.append(guards[build] + text + "#endif\n" if build in guards else text)
        return (banner + "\n" + f'#include "{self.p}.h"\n\n#include <stdint.h>\n\n'
                '/* MCF_KERNELS_FAST, MCF_FSUM_INT: which layout of some weights this build holds (see mcf_dsp.h). */\n'
                '#include "mcf_dsp.h"\n\n' + "\n".join(defs))


class _Emitter:
    """<prefix>.c and <prefix>.h of one compiled model, in named steps: the buffers (arena, IO,
    state), the profile stamps, one parameter struct and one call per kernel step, the IO tables
    and the model description, then init / reset_state / invoke."""

    def __init__(self, cm: CompiledModel, prefix: str, hot_ops: frozenset[int] = frozenset()) -> None:
        self.cm = cm
        self.p = prefix
        self.P = prefix.upper()
        self.g = cm.graph
        # Hot weights: the constant data of these operators gets MCF_HOT_WEIGHTS_ATTR (weights.py).
        hot_tensors = {t for op in self.g.operators if op.index in hot_ops for t in op.inputs}
        self.consts = _ConstData(prefix, hot_tensors, hot_ops)
        self.banner = (f"/* Generated by mcuforge {__version__} from {self.g.name}\n"
                       f" * (sha256 {self.g.sha256}). Do not edit: run `mcuforge compile` again. */\n")

    # -- tensors -------------------------------------------------------------------------
    def tensor_expr(self, index: int) -> str:
        t = self.g.tensors[index]
        if t.dtype == "resource":  # a variable handle: the variable's bytes in the state buffer
            return f"({self.p}_state + {self.cm.state.location(index)})"
        root = index
        while root in self.cm.aliases:
            root = self.cm.aliases[root]
        if root in self.cm.state.views:  # a READ_VARIABLE output (or a view of it) read in place
            return f"(({C_TYPES[t.dtype]} *)({self.p}_state + {self.cm.state.location(root)}))"
        if t.is_const:
            return self.consts.weight_symbol(t)
        space, offset = self.cm.tensor_location(index)
        return f"(({C_TYPES[t.dtype]} *)({self.p}_{space} + {offset}))"

    def _scratch_expr(self, op_index: int) -> tuple[str, int]:
        buffer = next(b.id for b in self.cm.plan.buffers if b.scratch_of == op_index)
        space, offset = self.cm.plan.location(buffer)
        return f"{self.p}_{space}", offset

    # -- <prefix>.c ------------------------------------------------------------------------
    def source(self) -> str:
        structs: list[str] = []
        body: list[str] = []
        for step in self.cm.steps:
            struct, lines = self._step_code(step)
            if struct:
                structs.append(struct)
            body += lines
        p = self.p
        kernels = kernels_used(self.cm)
        includes = "\n".join(f'#include "{k}.h"' for k in kernels)
        state = self._state_code()  # before the declarations: it may add initial-value arrays
        return (
            self.banner + "\n"
            f'#include "{p}.h"\n\n#include <stdint.h>\n\n#include "mcf_dsp.h"\n{includes}\n\n'
            f"/* Constant data, defined in {p}_data.c. */\n" + "\n".join(self.consts.decls) + "\n\n"
            + self._buffers() + self._profile_block()
            + "/* Kernel parameters, all computed ahead of time. */\n" + "\n\n".join(structs) + "\n\n"
            + self._io_tables() + "\n\n" + self._model_struct() + state
            + f"void {p}_invoke(void)\n{{\n    {self.P}_STAMP_START();\n" + "\n".join(body)
            + f"\n    {self.P}_STAMP_EMPTY();\n}}\n"
        )

    def _step_code(self, step: KernelCall | Alias) -> tuple[str, list[str]]:
        """(parameter struct or "", lines of invoke) of one operator."""
        op, P = step.op, self.P
        outs = ", ".join(f"{list(self.g.tensors[i].shape)}" for i in op.outputs)
        if isinstance(step, Alias):
            return "", [f"    /* operator {op.index} {op.opcode}: output {outs} shares its input's bytes */",
                        f"    {P}_STAMP_SAME({op.index});"]
        if not step.function:  # resolved at compile time (ops/variables.py: VAR_HANDLE, CALL_ONCE)
            return "", [f"    /* operator {op.index} {op.opcode}{step.comment} */", f"    {P}_STAMP_SAME({op.index});"]
        syms = {a.name: self.consts.call_const(step, a) for a in step.consts}
        struct = self._params_struct(step, syms)
        note = f", {step.macs} MACs" if step.macs else ""
        arrow = f" -> {outs}" if outs else ""
        return struct, [f"    /* operator {op.index} {op.opcode}{arrow}{note}{step.comment} */",
                        f"    {step.function}(" + ", ".join(self._call_args(step, syms)) + ");",
                        f"    {P}_STAMP({op.index});"]

    def _params_struct(self, call: KernelCall, syms: dict[str, str]) -> str:
        if not call.params_type:
            return ""
        fields = []
        for k, v in call.params.items():
            if isinstance(v, ConstRef):
                v = syms[v.name]
            elif isinstance(v, ScratchRef):
                base, offset = self._scratch_expr(call.op.index)
                v = f"({v.ctype} *)(void *)&{base}[{offset}]"
            elif isinstance(v, StateRef):  # the operator's own state (ops/variable_tensors.py)
                v = f"({v.ctype} *)(void *)&{self.p}_state[{self.cm.state.private[call.op.index]}]"
            elif isinstance(v, float):
                v = c_float(v)
            elif isinstance(v, bool):
                v = int(v)
            fields.append(f"    .{k} = {v},")
        return f"static const {call.params_type} {self.p}_op{call.op.index} = {{\n" + "\n".join(fields) + "\n};"

    def _call_args(self, call: KernelCall, syms: dict[str, str]) -> list[str]:
        args = [f"&{self.p}_op{call.op.index}"] if call.params_type else []
        for a in call.args:
            if isinstance(a, FastOr):
                portable = self.consts.weight_symbol(self.g.tensors[a.portable], portable_only=True)
                args.append(f"MCF_FAST_OR(({a.ctype} *){syms[a.fast.name]}, {portable})")
            else:
                args.append(syms[a.name] if isinstance(a, ConstRef) else self.tensor_expr(a))
        if call.scratch_bytes and not any(isinstance(v, ScratchRef) for v in call.params.values()):
            base, offset = self._scratch_expr(call.op.index)
            args.append(f"({base} + {offset})")
        return args

    def _buffers(self) -> str:
        """The arena, the separate IO buffer and the state buffer."""
        p, plan = self.p, self.cm.plan
        text = (f"/* The activation arena: every intermediate tensor at an offset planned by mcuforge.\n"
                f" * Place it in a memory region by defining MCF_ARENA_ATTR (see {p}.h). */\n"
                f"uint8_t {p}_arena[{self.arena_dim()}] MCF_ALIGNED16 MCF_ARENA_ATTR;\n\n")
        if plan.io_bytes:
            text += (f"/* Graph inputs and outputs live here, apart from the arena, so inputs survive invoke.\n"
                     f" * Place it with MCF_IO_ATTR. */\n"
                     f"uint8_t {p}_io[{plan.io_bytes}] MCF_ALIGNED16 MCF_IO_ATTR;\n\n")
        if self.cm.state.bytes:
            names = ", ".join(f"'{v.name}' at {v.offset}" for v in self.cm.state.variables)
            text += (f"/* The model's state (its variables), kept from one invoke to the next: {names}.\n"
                     f" * {p}_init() and {p}_reset_state() set it to its initial values.\n"
                     f" * Place it with MCF_STATE_ATTR. */\n"
                     f"uint8_t {p}_state[{self.P}_STATE_BYTES] MCF_ALIGNED16 MCF_STATE_ATTR;\n\n")
        return text

    def _profile_block(self) -> str:
        """Per-operator stamps, compiled in only with MCF_PROFILE=1 (see mcf_profile in mcf_model.h)."""
        p, P, n = self.p, self.P, len(self.g.operators)
        return (f"/* Per-operator profile (MCF_PROFILE=1 only): the tick counter before operator 0 and after each\n"
                f" * operator; one that shares its input's bytes copies the previous stamp (it takes 0). A last\n"
                f" * reading right after the last operator's measures an empty region (value {n}): what one\n"
                f" * reading adds to each operator's value, for the host to subtract. */\n"
                f"#if MCF_PROFILE\n"
                f"static uint32_t {p}_stamps[{n + 2}];\n"
                f"static const mcf_profile {p}_profile = {{{n + 1}, {p}_stamps}};\n"
                f"#define {P}_STAMP_START() ({p}_stamps[0] = mcf_profile_ticks())\n"
                f"#define {P}_STAMP(op) ({p}_stamps[(op) + 1] = mcf_profile_ticks())\n"
                f"#define {P}_STAMP_SAME(op) ({p}_stamps[(op) + 1] = {p}_stamps[(op)])\n"
                f"#define {P}_STAMP_EMPTY() ({p}_stamps[{n + 1}] = mcf_profile_ticks())\n"
                f"#else\n"
                f"#define {P}_STAMP_START() ((void)0)\n"
                f"#define {P}_STAMP(op) ((void)0)\n"
                f"#define {P}_STAMP_SAME(op) ((void)0)\n"
                f"#define {P}_STAMP_EMPTY() ((void)0)\n"
                f"#endif\n\n")

    def _io_tables(self) -> str:
        g, p = self.g, self.p
        infos = []
        for kind, idxs in (("inputs", g.inputs), ("outputs", g.outputs)):
            rows = []
            for i in idxs:
                t = g.tensors[i]
                dims = ", ".join(str(d) for d in t.shape) or "1"
                scale = c_float(t.scale) if t.quant else "0.0f"
                zp = t.zero_point if t.quant else 0
                name = t.name.replace("\\", "\\\\").replace('"', '\\"')
                rows.append(f'    {{"{name}", {self.tensor_expr(i)}, {t.nbytes}u, {DTYPE_ENUM[t.dtype]}, '
                            f"{len(t.shape)}, {{{dims}}}, {scale}, {zp}}},")
            infos.append(f"static const mcf_tensor_info {p}_{kind}[{len(idxs)}] = {{\n" + "\n".join(rows) + "\n};")
        return "\n".join(infos)

    def _model_struct(self) -> str:
        g, p, P = self.g, self.p, self.P
        return (f"const mcf_model {p}_model = {{\n"
                f'    "{p}", "{g.sha256}", {P}_ARENA_BYTES, {P}_IO_BYTES, {P}_WEIGHTS_BYTES,\n'
                f"    {len(g.inputs)}, {len(g.outputs)}, {p}_inputs, {p}_outputs, {p}_invoke,\n"
                f"#if MCF_PROFILE\n    &{p}_profile,\n#else\n    NULL,\n#endif\n"
                f"    {P}_STATE_BYTES, {p}_reset_state, {p + '_state' if self.cm.state.bytes else 'NULL'}\n}};\n\n")

    def _state_code(self) -> str:
        """init() and reset_state(): the initial values of the variables (ops/variables.py), filled
        when all their bytes are equal, else copied from a constant array."""
        p, state = self.p, self.cm.state
        if not state.bytes:
            return (f"void {p}_reset_state(void)\n{{\n    /* The model keeps no state between invokes. */\n}}\n\n"
                    f"void {p}_init(void)\n{{\n"
                    "    /* Nothing to prepare at run time: all parameters are constants. */\n}\n\n")
        params, lines = [], []
        for k, v in enumerate(state.variables):
            params.append(f"static const mcf_var_params {p}_var{k} = {{{v.nbytes}u}}; /* '{v.name}' {v.dtype} "
                          f"{list(v.shape)} */")
            if v.uniform is not None:
                lines.append(f"    mcf_var_fill(&{p}_var{k}, {p}_state + {v.offset}, {v.uniform}u);")
            else:
                sym = f"{p}_var{k}_initial"
                self.consts.add(sym, "uint8_t", v.initial, f"initial value of variable '{v.name}' (CALL_ONCE)")
                lines.append(f"    mcf_var_copy(&{p}_var{k}, {p}_state + {v.offset}, {sym});")
        return ("\n".join(params) + "\n\n"
                f"void {p}_reset_state(void)\n{{\n" + "\n".join(lines) + "\n}\n\n"
                f"void {p}_init(void)\n{{\n    /* The CALL_ONCE initialisers, evaluated by mcuforge: the state's "
                f"initial values. */\n    {p}_reset_state();\n}}\n\n")

    def arena_dim(self) -> str:
        """C array size of the arena: ISO C has no zero-length arrays, and a model whose tensors are
        all graph inputs/outputs in a separate IO buffer needs no arena bytes at all."""
        return f"{self.P}_ARENA_BYTES" if self.cm.plan.arena_bytes else "1"



class _Header:
    """<prefix>.h: placement macros, sizes, IO tensor macros, the API (tensor expressions from the
    model's _Emitter, so both files agree)."""

    def __init__(self, em: _Emitter) -> None:
        self.em = em
        self.cm, self.g, self.p, self.P = em.cm, em.g, em.p, em.P

    def text(self, weights_bytes: int, placement: CPlacement) -> str:
        P = self.P
        lines = [self.em.banner, f"#ifndef {P}_H", f"#define {P}_H", "", "#include <stdint.h>", "",
                 '#include "mcf_model.h"', *(f"#include {inc}" for inc in placement.includes), "",
                 *self._placement_macros(placement), "",
                 "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
                 *self._size_macros(weights_bytes), "", *self._io_macros(), "", *self._api_decls(),
                 "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {P}_H */", ""]
        return "\n".join(lines)

    def _placement_macros(self, placement: CPlacement) -> list[str]:
        lines = ["/* Memory placement. Define these (compiler flags or a header included first) to put the",
                 " * buffers in a chosen linker section, e.g. -DMCF_ARENA_ATTR='__attribute__((section(\".dtcm\")))'."]
        if placement.where:
            lines.append(f" * Defaults chosen by mcuforge: {placement.where}.")
        lines += [" */"]
        for macro, value in (("MCF_ARENA_ATTR", placement.arena), ("MCF_IO_ATTR", placement.io),
                             ("MCF_WEIGHTS_ATTR", placement.weights)):
            lines += [f"#ifndef {macro}", f"#define {macro} {value}".rstrip(), "#endif"]
        # The hot layers' constant data (mcuforge new/compile --hot-weights), e.g. copied to a fast RAM.
        hot = placement.hot_weights or "MCF_WEIGHTS_ATTR"
        lines += ["#ifndef MCF_HOT_WEIGHTS_ATTR", f"#define MCF_HOT_WEIGHTS_ATTR {hot}", "#endif"]
        if self.cm.state.bytes:  # the state buffer goes where the arena goes unless told otherwise
            lines += ["#ifndef MCF_STATE_ATTR", "#define MCF_STATE_ATTR MCF_ARENA_ATTR", "#endif"]
        return lines

    def _size_macros(self, weights_bytes: int) -> list[str]:
        g, P, plan = self.g, self.P, self.cm.plan
        return [f"#define {P}_ARENA_BYTES {plan.arena_bytes}u  /* live-bytes lower bound: {plan.lower_bound} */",
                f"#define {P}_IO_BYTES {plan.io_bytes}u",
                f"#define {P}_WEIGHTS_BYTES {weights_bytes}u",
                f"#define {P}_STATE_BYTES {self.cm.state.bytes}u  /* kept across invokes (the model's variables) */",
                f"#define {P}_NUM_INPUTS {len(g.inputs)}",
                f"#define {P}_NUM_OUTPUTS {len(g.outputs)}"]

    def _io_macros(self) -> list[str]:
        g, P = self.g, self.P
        where = ("a separate IO buffer: they keep their values between invokes" if self.cm.plan.io_bytes else
                 "the arena: invoke reuses input bytes, so write the inputs again before every invoke")
        lines = [f"/* Inputs and outputs live in {where}. */"]
        for kind, idxs in (("INPUT", g.inputs), ("OUTPUT", g.outputs)):
            for n, i in enumerate(idxs):
                t = g.tensors[i]
                lines.append(f"/* {kind.lower()} {n}: '{t.name}' {C_TYPES[t.dtype]} {list(t.shape)} */")
                lines.append(f"#define {P}_{kind}{n} {self.em.tensor_expr(i)}")
                lines.append(f"#define {P}_{kind}{n}_BYTES {t.nbytes}u")
                lines.append(f"#define {P}_{kind}{n}_DIMS {{{', '.join(str(d) for d in t.shape)}}}")
                if t.quant:
                    lines.append(f"#define {P}_{kind}{n}_SCALE {c_float(t.scale)}")
                    lines.append(f"#define {P}_{kind}{n}_ZERO_POINT {t.zero_point}")
        return lines

    def _api_decls(self) -> list[str]:
        p, plan = self.p, self.cm.plan
        lines = [f"extern uint8_t {p}_arena[{self.em.arena_dim()}];"]
        if plan.io_bytes:
            lines.append(f"extern uint8_t {p}_io[{plan.io_bytes}];")
        if self.cm.state.bytes:
            lines.append(f"extern uint8_t {p}_state[{self.P}_STATE_BYTES];")
        stateful = bool(self.cm.state.bytes)
        return [
            *lines,
            f"extern const mcf_model {p}_model;", "",
            "/* Prepares the model: " + ("sets the state to its initial values (as reset_state). */" if stateful else
                                         "nothing to do today; call it once for forward compatibility. */"),
            f"void {p}_init(void);", "",
            "/* Runs one inference on the current input bytes. Not reentrant: one arena per model." +
            (f"\n * Each call reads and updates the state in {p}_state (a streaming model's memory). */" if stateful
             else " */"),
            f"void {p}_invoke(void);", "",
            "/* Puts the state back to its initial values, as after init(): the next invoke starts a new stream." +
            ("" if stateful else "\n * This model keeps no state: it does nothing.") + " */",
            f"void {p}_reset_state(void);", ""]


@dataclass(frozen=True)
class CPlacement:
    """Default section attributes for the model's buffers (empty: ordinary .bss / .rodata)."""

    arena: str = ""
    io: str = ""
    weights: str = ""
    hot_weights: str = ""  # the hot layers' constant data (default: as the other weights)
    includes: tuple[str, ...] = ()  # e.g. '<zephyr/linker/section_tags.h>'
    where: str = ""  # human summary for the header comment, e.g. "arena in dtcm, IO in sram"


def generate(cm: CompiledModel, prefix: str, placement: CPlacement | None = None,
             hot_ops: tuple[int, ...] = ()) -> GeneratedLibrary:
    """`hot_ops`: operators whose constant data gets MCF_HOT_WEIGHTS_ATTR (generator/weights.py)."""
    check_prefix(prefix)
    placement = placement or CPlacement()
    em = _Emitter(cm, prefix, frozenset(hot_ops))
    src = em.source()  # first: it registers the constant data
    # Builds with and without the fast kernel paths may hold some weights in different layouts;
    # the larger of the two is what the flash must hold.
    const_fast, const_portable = em.consts.const_bytes()
    const_bytes = max(const_fast, const_portable)
    lib = GeneratedLibrary(prefix)
    lib.files[f"{prefix}.h"] = _Header(em).text(const_bytes, placement).encode()
    lib.files[f"{prefix}.c"] = src.encode()
    lib.files[f"{prefix}_data.c"] = em.consts.file(em.banner).encode()
    rt = runtime_dir()
    runtime_files = [rt / "include" / "mcf_model.h", *sorted((rt / "kernels").glob("mcf_*.h"))]
    for k in kernels_used(cm):
        runtime_files += [rt / "kernels" / f"{k}.h", rt / "kernels" / f"{k}.c"]
        # A kernel compiled from another's source (conv2d_s8_f32.c includes conv2d_s8.c) needs it too.
        for base in re.findall(r'^#include "(\w+)\.c"', (rt / "kernels" / f"{k}.c").read_text(), re.M):
            runtime_files += [rt / "kernels" / f"{base}.h", rt / "kernels" / f"{base}.c"]
    for f in runtime_files:
        lib.files[f.name] = f.read_bytes()
    g = cm.graph
    lib.manifest = {
        "generator": f"mcuforge {__version__}",
        "model": g.name,
        "sha256": g.sha256,
        "prefix": prefix,
        "arena_bytes": cm.plan.arena_bytes,
        "io_bytes": cm.plan.io_bytes,
        "lower_bound_bytes": cm.plan.lower_bound,
        "weights_bytes": g.weights_bytes,
        "const_bytes": const_bytes,
        "const_bytes_fast": const_fast,  # builds with the fast kernel paths (the default)
        "const_bytes_portable": const_portable,  # builds with -DMCF_PORTABLE_KERNELS
        # builds whose ONNX float convolutions use an FPU ("hw") or integers ("int", MCF_FSUM_INT)
        "const_bytes_float": {kind: max(em.consts.const_bytes(float_kind=kind)) for kind in ("hw", "int")},
        "hot_ops": sorted(hot_ops),  # their constants carry MCF_HOT_WEIGHTS_ATTR
        "hot_const_bytes": max(em.consts.const_bytes(em.consts.hot_syms)),
        "macs": cm.macs,
        "state_bytes": cm.state.bytes,  # resource variables, kept across invokes
        "variables": [{"name": v.name, "dtype": v.dtype, "shape": list(v.shape), "offset": v.offset,
                       "bytes": v.nbytes} for v in cm.state.variables],
        "sources": sorted(n for n in lib.files if n.endswith(".c")),
        "headers": sorted(n for n in lib.files if n.endswith(".h")),
        "inputs": [_io_json(cm, i) for i in g.inputs],
        "outputs": [_io_json(cm, i) for i in g.outputs],
    }
    lib.files["mcuforge_model.json"] = (json.dumps(lib.manifest, indent=2) + "\n").encode()
    return lib


def _io_json(cm: CompiledModel, index: int) -> dict:
    t = cm.graph.tensors[index]
    space, offset = cm.tensor_location(index)
    return {"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "bytes": t.nbytes,
            "scale": t.scale if t.quant else None, "zero_point": t.zero_point if t.quant else None,
            "space": space, "offset": offset}


def write_library(lib: GeneratedLibrary, out_dir: Path, *, force: bool = False) -> None:
    """Write atomically: into a sibling temp folder, then rename. Nothing half-written on failure."""
    from .fsutil import replace_dir  # local import keeps codegen importable without the fs helpers

    def fill(tmp: Path) -> None:
        for rel, data in sorted(lib.files.items()):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)

    replace_dir(out_dir, fill, force=force)  # an unwritable folder is a McuforgeError (one line)


__all__ = ["GeneratedLibrary", "generate", "write_library"]
