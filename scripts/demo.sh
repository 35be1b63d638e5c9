#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo: the model that ships with mcuforge, compiled and
# checked bit for bit against TFLite Micro.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
MODEL=examples/models/gesture_mlp_int8.tflite
mcuforge inspect "$MODEL"
mcuforge validate "$MODEL" --inputs 20
