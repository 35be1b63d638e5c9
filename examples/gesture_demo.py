"""The mcuforge demo: the shipped gesture model on an emulated Cortex-M4, end to end.

    python examples/gesture_demo.py [--board mps2_an386] [--out demo-out]

1. compile the model and check it bit for bit against TFLite Micro on this computer;
2. scaffold a bare-metal project for the emulated board, build it with cmake + ninja;
3. start the board in QEMU, run every held-out window on it over the serial protocol, and
   compare each output with TFLite Micro and each prediction with the true label.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mcuforge.generator.build import build_project
from mcuforge.generator.errors import McuforgeError
from mcuforge.generator.references import Reference
from mcuforge.generator.scaffold import new_project
from mcuforge.generator.validate import validate_model
from mcuforge.hil.session import open_session

HERE = Path(__file__).resolve().parent
MODEL = HERE / "models" / "gesture_mlp_int8.tflite"
TEST_SET = HERE / "models" / "gesture_test_set.npz"
CLASSES = ["idle", "shake", "tilt", "circle"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--board", default="mps2_an386")
    ap.add_argument("--out", type=Path, default=Path("demo-out"))
    args = ap.parse_args()

    host = validate_model(MODEL, count=20)
    print(f"1. host check: {host.bit_exact}/{host.inputs} inferences bit-exact with TFLite Micro; "
          f"arena {host.arena_bytes} B (lower bound {host.lower_bound_bytes} B), weights {host.weights_bytes} B, "
          f"{host.macs} MACs")

    project = args.out / f"gesture-{args.board}"
    new_project(project, MODEL, args.board, force=project.exists())
    built = build_project(project)
    assert built.report is not None
    used = ", ".join(f"{r.name} {r.used:,} B" for r in built.report.regions if r.used)
    arena = built.report.symbols["arena"]
    print(f"2. built {built.elf}: {used}; arena at 0x{arena.address:08x} in {arena.region}")

    data = np.load(TEST_SET)
    x, y = data["x"], data["y"]
    ref = Reference(MODEL.read_bytes())
    exact = correct = 0
    counts: list[int] = []
    with open_session(project) as s:
        print(f"3. {s.board.name} in QEMU at {s.url}: engine {s.info.engine}")
        for window, label in zip(x, y, strict=True):
            inputs = [window.reshape(1, 96).astype(np.float32)]
            got = s.device.infer(inputs)
            want = ref.run(inputs, 1)[0]
            exact += bool(np.array_equal(got.outputs[0], want.reshape(got.outputs[0].shape)))
            correct += int(np.argmax(got.outputs[0])) == int(label)
            counts.append(got.elapsed)
            unit = got.unit
    n = len(y)
    print(f"   {exact}/{n} outputs bit-exact with TFLite Micro; accuracy on the device {correct / n:.3f}; "
          f"{int(np.median(counts)):,} {unit} per inference (min {min(counts):,}, max {max(counts):,})")
    return 0 if exact == n else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except McuforgeError as exc:
        print(f"error: {exc.message}" + (f"\nHint: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        sys.exit(2)
