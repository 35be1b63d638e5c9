#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite, lint and type checks included.
# Reference models are read from ../shared/models (or $MCUFORGE_MODELS_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
ruff check .
mypy generator hil
python -m pytest -q -n auto "$@"
