#!/usr/bin/env python3
"""Make mcuforge's demo model: an int8 accelerometer-gesture MLP, trained here with numpy only.

    python examples/models/make_gesture_model.py            # writes the .tflite and the held-out set
    python examples/models/make_gesture_model.py --check    # rebuilds and compares, writes nothing

Steps, all deterministic (fixed seeds, float64 training, no wall-clock or platform data in the outputs):

1. A synthetic 3-axis accelerometer dataset, 4 classes (idle, shake, tilt, circle): windows of 32 samples
   at 50 Hz, in g, with gravity in a random device orientation, random amplitude/frequency/phase/axis,
   sensor gain/offset errors and noise.
2. A 96 → 32 (ReLU) → 16 (ReLU) → 4 MLP trained with softmax cross-entropy and Adam.
3. Full-integer post-training quantization the way the TFLite converter does it: int8 activations with
   per-tensor asymmetric scale/zero point from the min/max seen on the training data (range widened to
   include 0), int8 weights symmetric per output channel, int32 biases with scale input_scale *
   weight_scale[c], ReLU fused into FULLY_CONNECTED, SOFTMAX output int8 with scale 1/256, zero point -128.
   Graph: float32 "accel_window" [1,96] → QUANTIZE → FC+RELU → FC+RELU → FC → SOFTMAX → int8
   "gesture_probs" [1,4].
4. Serialization with the flatbuffer schema object API from the `tflite-micro` package, and a check of the
   int8 model with the TFLite Micro reference interpreter on the held-out set.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TFLITE_PATH = HERE / "gesture_mlp_int8.tflite"
TEST_SET_PATH = HERE / "gesture_test_set.npz"

CLASSES = ("idle", "shake", "tilt", "circle")
RATE_HZ = 50.0
WINDOW = 32  # samples per window; the input is WINDOW × (x, y, z) interleaved = 96 floats
AXES = 3
HIDDEN = (32, 16)
SEED = 20240601
TRAIN_PER_CLASS = 1000
TEST_PER_CLASS = 40  # 160 held-out windows
EPOCHS = 40
BATCH = 64
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4

DESCRIPTION = (
    "mcuforge demo: accelerometer gesture MLP, synthetic data, trained with numpy and quantized to int8 "
    "by examples/models/make_gesture_model.py; input accel_window float32 [1,96] = 32 samples x (x,y,z) "
    "in g at 50 Hz; output gesture_probs int8 [1,4] = softmax over (idle, shake, tilt, circle); Apache-2.0"
)


# ----------------------------------------------------------------------------------------------- dataset

def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _perpendicular(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    """A random unit vector perpendicular to each row of the unit vectors `a`."""
    v = _unit(rng, len(a))
    v -= np.sum(v * a, axis=1, keepdims=True) * a
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def make_windows(rng: np.random.Generator, label: int, n: int) -> np.ndarray:
    """n windows of one class, float64 [n, WINDOW, 3] in g (device frame)."""
    t = np.arange(WINDOW) / RATE_HZ  # [T]
    tt = t[None, :, None]  # [1, T, 1]

    def col(lo: float, hi: float) -> np.ndarray:  # a per-window random value shaped to broadcast
        return rng.uniform(lo, hi, size=(n, 1, 1))

    gravity = _unit(rng, n)  # device held in any orientation
    g = np.broadcast_to(gravity[:, None, :], (n, WINDOW, 3)).copy()
    if label == 0:  # idle: resting or hand-held, a little physiological tremor
        axis = _unit(rng, n)[:, None, :]
        tremor = col(0.0, 0.06) * np.sin(2 * np.pi * col(6.0, 12.0) * tt + col(0, 2 * np.pi))
        drift = col(-0.05, 0.05) * (tt / t[-1])
        motion = (tremor + drift) * axis
    elif label == 1:  # shake: back-and-forth along one axis, 3-8 Hz, may start or stop within the window
        axis = _unit(rng, n)[:, None, :]
        f, ph = col(3.0, 8.0), col(0, 2 * np.pi)
        harmonic = col(0.0, 0.4) * np.sin(4 * np.pi * f * tt + col(0, 2 * np.pi))
        wave = np.sin(2 * np.pi * f * tt + ph) + harmonic
        start, stop = col(-0.3, 0.25), col(0.4, 1.0)
        frac = tt / t[-1]
        envelope = _smoothstep((frac - start) / 0.1) * (1.0 - _smoothstep((frac - stop) / 0.1))
        motion = col(0.4, 1.8) * wave * envelope * axis
    elif label == 2:  # tilt: the device turns 30-100 degrees, gravity swings to a new direction
        k = _perpendicular(rng, gravity)
        angle = np.deg2rad(rng.uniform(30.0, 100.0, size=(n, 1)))
        start, dur = rng.uniform(-0.15, 0.45, size=(n, 1)), rng.uniform(0.2, 0.6, size=(n, 1))
        theta = angle * _smoothstep((t[None, :] / t[-1] - start) / dur)  # [n, T]
        kxg = np.cross(k, gravity)
        g = (gravity[:, None, :] * np.cos(theta)[..., None] + kxg[:, None, :] * np.sin(theta)[..., None])
        progress = np.clip((tt / t[-1] - start[..., None]) / dur[..., None], 0, 1)
        jolt = col(0.0, 0.15) * np.sin(np.pi * progress)
        motion = jolt * k[:, None, :]
    else:  # circle: the hand draws a circle in a random plane, 1.5-3.5 Hz, either direction
        u = _unit(rng, n)
        v = _perpendicular(rng, u)
        w = 2 * np.pi * col(1.5, 3.5) * rng.choice([-1.0, 1.0], size=(n, 1, 1))
        ph = col(0, 2 * np.pi)
        motion = col(0.3, 1.2) * (np.cos(w * tt + ph) * u[:, None, :] + np.sin(w * tt + ph) * v[:, None, :])
    gain = rng.uniform(0.95, 1.05, size=(n, 1, 3))
    offset = rng.uniform(-0.04, 0.04, size=(n, 1, 3))
    noise = rng.normal(size=(n, WINDOW, 3)) * col(0.01, 0.05)
    return (g + motion) * gain + offset + noise


def make_dataset(rng: np.random.Generator, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled windows x float64 [N, 96] (x,y,z interleaved per sample) and labels y int64 [N]."""
    xs, ys = [], []
    for label in range(len(CLASSES)):
        xs.append(make_windows(rng, label, per_class).reshape(per_class, WINDOW * AXES))
        ys.append(np.full(per_class, label, dtype=np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(y))
    return x[order], y[order]


# ---------------------------------------------------------------------------------------------- training

Params = list[tuple[np.ndarray, np.ndarray]]  # (W [out, in], b [out]) per layer, TFLite's FC layout


def forward(params: Params, x: np.ndarray) -> list[np.ndarray]:
    """Activations of every layer: [input, hidden1 (ReLU), hidden2 (ReLU), logits]."""
    acts = [x]
    for i, (w, b) in enumerate(params):
        z = acts[-1] @ w.T + b
        acts.append(np.maximum(z, 0.0) if i < len(params) - 1 else z)
    return acts


def train(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> Params:
    sizes = [x.shape[1], *HIDDEN, len(CLASSES)]
    params: Params = [(rng.normal(size=(o, i)) * np.sqrt(2.0 / i), np.zeros(o))
                      for i, o in itertools.pairwise(sizes)]
    flat = [p for layer in params for p in layer]
    m = [np.zeros_like(p) for p in flat]
    v = [np.zeros_like(p) for p in flat]
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    onehot = np.eye(len(CLASSES))[y]
    for epoch in range(EPOCHS):
        lr = LEARNING_RATE * 0.5 * (1 + np.cos(np.pi * epoch / EPOCHS))  # cosine decay
        order = rng.permutation(len(y))
        for s in range(0, len(y), BATCH):
            idx = order[s:s + BATCH]
            acts = forward(params, x[idx])
            logits = acts[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            delta = (p - onehot[idx]) / len(idx)
            grads: list[np.ndarray] = []
            for li in range(len(params) - 1, -1, -1):
                w, _ = params[li]
                grads[:0] = [delta.T @ acts[li] + WEIGHT_DECAY * w, delta.sum(axis=0)]
                if li:
                    delta = (delta @ w) * (acts[li] > 0)
            step += 1
            for j, (pj, gj) in enumerate(zip(flat, grads, strict=True)):
                m[j] = b1 * m[j] + (1 - b1) * gj
                v[j] = b2 * v[j] + (1 - b2) * gj * gj
                pj -= lr * (m[j] / (1 - b1 ** step)) / (np.sqrt(v[j] / (1 - b2 ** step)) + eps)
    return params


def accuracy(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(forward(params, x)[-1], axis=1) == y))


# ------------------------------------------------------------------------------------------ quantization

@dataclass
class QParams:
    scale: np.float32
    zero_point: int


def activation_qparams(lo: float, hi: float) -> QParams:
    """int8 asymmetric per-tensor parameters for a calibrated range, as TFLite's quantizer computes them."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # 0 must be exactly representable
    scale = np.float32((hi - lo) / 255.0)
    zp_from_min = -128.0 - lo / float(scale)
    zero_point = int(np.clip(np.round(zp_from_min), -128, 127))
    return QParams(scale, zero_point)


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-channel int8 weights (zero point 0); returns (int8 [out, in], float32 scales)."""
    max_abs = np.max(np.abs(w), axis=1)
    scales = np.where(max_abs > 0, max_abs / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scales.astype(np.float64)[:, None]), -127, 127).astype(np.int8)
    return q, scales


def quantize_bias(b: np.ndarray, input_scale: np.float32,
                  weight_scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = (np.float32(input_scale) * weight_scales).astype(np.float32)
    q = np.round(b / scales.astype(np.float64)).astype(np.int64)
    return np.clip(q, -(2**31), 2**31 - 1).astype(np.int32), scales


# --------------------------------------------------------------------------------------- serialization

def serialize(params: Params, act_q: list[QParams]) -> bytes:
    """The int8 graph as a .tflite flatbuffer (schema object API, one subgraph)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT()
    model.version = 3
    model.description = DESCRIPTION.encode()
    model.buffers = [schema.BufferT()]  # buffer 0: the conventional empty buffer
    sg = schema.SubGraphT()
    sg.name = b"main"
    sg.tensors, sg.operators = [], []
    model.operatorCodes = []
    opcode_index: dict[int, int] = {}

    def tensor(name: str, shape: tuple[int, ...], ttype: int, scale: np.ndarray | None = None,
               zero_point: np.ndarray | None = None, data: np.ndarray | None = None) -> int:
        t = schema.TensorT()
        t.name = name.encode()
        t.shape = np.array(shape, dtype=np.int32)
        t.type = ttype
        t.buffer = 0
        if data is not None:
            buf = schema.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            model.buffers.append(buf)
            t.buffer = len(model.buffers) - 1
        if scale is not None:
            q = schema.QuantizationParametersT()
            q.scale = np.asarray(scale, dtype=np.float32).reshape(-1)
            q.zeroPoint = np.asarray(zero_point, dtype=np.int64).reshape(-1)
            q.quantizedDimension = 0
            t.quantization = q
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    def operator(builtin: int, version: int, inputs: list[int], outputs: list[int], opts: object = None,
                 opts_type: int = 0) -> None:
        if builtin not in opcode_index:
            code = schema.OperatorCodeT()
            code.builtinCode = builtin
            code.deprecatedBuiltinCode = min(builtin, 127)
            code.version = version
            opcode_index[builtin] = len(model.operatorCodes)
            model.operatorCodes.append(code)
        o = schema.OperatorT()
        o.opcodeIndex = opcode_index[builtin]
        o.inputs = np.array(inputs, dtype=np.int32)
        o.outputs = np.array(outputs, dtype=np.int32)
        if opts is not None:
            o.builtinOptionsType = opts_type
            o.builtinOptions = opts
        sg.operators.append(o)

    def qtensor(name: str, width: int, q: QParams) -> int:
        return tensor(name, (1, width), schema.TensorType.INT8, np.array([q.scale]), np.array([q.zero_point]))

    n_in = WINDOW * AXES
    x_float = tensor("accel_window", (1, n_in), schema.TensorType.FLOAT32)
    x = qtensor("accel_window_int8", n_in, act_q[0])
    operator(schema.BuiltinOperator.QUANTIZE, 1, [x_float], [x])
    for li, (w, b) in enumerate(params):
        last = li == len(params) - 1
        wq, w_scales = quantize_weights(w)
        bq, b_scales = quantize_bias(b, act_q[li].scale, w_scales)
        out_ch = w.shape[0]
        zeros = np.zeros(out_ch, dtype=np.int64)
        w_t = tensor(f"dense_{li + 1}/weights", w.shape, schema.TensorType.INT8, w_scales, zeros, wq)
        b_t = tensor(f"dense_{li + 1}/bias", (out_ch,), schema.TensorType.INT32, b_scales, zeros, bq)
        y = qtensor("logits" if last else f"dense_{li + 1}/relu", out_ch, act_q[li + 1])
        opts = schema.FullyConnectedOptionsT()
        opts.fusedActivationFunction = (schema.ActivationFunctionType.NONE if last
                                        else schema.ActivationFunctionType.RELU)
        opts.weightsFormat = schema.FullyConnectedOptionsWeightsFormat.DEFAULT
        opts.keepNumDims = False
        operator(schema.BuiltinOperator.FULLY_CONNECTED, 4, [x, w_t, b_t], [y], opts,
                 schema.BuiltinOptions.FullyConnectedOptions)
        x = y
    probs = tensor("gesture_probs", (1, len(CLASSES)), schema.TensorType.INT8,
                   np.array([1.0 / 256.0]), np.array([-128]))
    sm = schema.SoftmaxOptionsT()
    sm.beta = 1.0
    operator(schema.BuiltinOperator.SOFTMAX, 2, [x], [probs], sm, schema.BuiltinOptions.SoftmaxOptions)
    sg.inputs = np.array([x_float], dtype=np.int32)
    sg.outputs = np.array([probs], dtype=np.int32)
    model.subgraphs = [sg]
    builder = flatbuffers.Builder(4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (readable by np.load) with fixed zip timestamps and no compression, so it is reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return out.getvalue()


# ------------------------------------------------------------------------------------------------- build

@dataclass
class Built:
    tflite: bytes
    test_set: bytes
    x_test: np.ndarray  # float32 [N, 96]
    y_test: np.ndarray  # int32 [N]
    float_accuracy: float
    train_accuracy: float


def build() -> Built:
    """Everything deterministic: dataset, training, calibration, quantization, serialization."""
    rng = np.random.default_rng(SEED)
    x_train, y_train = make_dataset(rng, TRAIN_PER_CLASS)
    x_test, y_test = make_dataset(rng, TEST_PER_CLASS)
    x_test = x_test.astype(np.float32)  # what the device sees; evaluate the float model on the same values
    params = train(x_train, y_train, rng)
    acts = forward(params, x_train)  # calibration: min/max of every activation over the training set
    act_q = [activation_qparams(float(a.min()), float(a.max())) for a in acts]
    y_test32 = y_test.astype(np.int32)
    return Built(
        tflite=serialize(params, act_q),
        test_set=npz_bytes({"x": x_test, "y": y_test32}),
        x_test=x_test,
        y_test=y_test32,
        float_accuracy=accuracy(params, x_test.astype(np.float64), y_test),
        train_accuracy=accuracy(params, x_train, y_train),
    )


def tflm_predict(model: bytes, x: np.ndarray) -> np.ndarray:
    """int8 outputs [N, 4] of the model on the TFLite Micro reference interpreter."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 16)
    out = []
    for row in np.asarray(x, dtype=np.float32):
        interp.set_input(row.reshape(1, -1), 0)
        interp.invoke()
        out.append(np.array(interp.get_output(0)).reshape(-1))
    return np.stack(out)


def tflm_accuracy(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(tflm_predict(model, x), axis=1) == y))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="rebuild and compare with the committed files")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    built = build()
    t_build = time.perf_counter() - t0
    int8_acc = tflm_accuracy(built.tflite, built.x_test, built.y_test)
    print(f"built in {t_build:.1f} s; held-out set: {len(built.y_test)} windows")
    print(f"float accuracy: train {built.train_accuracy:.4f}, held-out {built.float_accuracy:.4f}")
    print(f"int8 accuracy (TFLite Micro reference), held-out: {int8_acc:.4f}")
    outputs = {TFLITE_PATH: built.tflite, TEST_SET_PATH: built.test_set}
    if args.check:
        stale = [p.name for p, data in outputs.items() if not p.is_file() or p.read_bytes() != data]
        if stale:
            print("differs from the committed files: " + ", ".join(stale), file=sys.stderr)
            return 1
        print("committed files are up to date")
    else:
        for path, data in outputs.items():
            path.write_bytes(data)
            print(f"wrote {path.name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    if int8_acc < 0.9:
        print("int8 accuracy below 0.9", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
