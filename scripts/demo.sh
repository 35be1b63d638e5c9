#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo: mcuforge's own gesture model (examples/models)
# compiled, checked against TFLite Micro, built for an emulated Cortex-M4 (QEMU mps2-an386), and
# run there on the held-out set over the serial protocol.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
mcuforge inspect examples/models/gesture_mlp_int8.tflite
python examples/gesture_demo.py --board mps2_an386 --out demo-out
