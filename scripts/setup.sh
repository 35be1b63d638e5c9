#!/usr/bin/env bash
# Installs everything mcuforge needs on Debian/Ubuntu: the firmware toolchains and emulators from
# apt, and mcuforge itself (with its test tools) into ./.venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc make python3-venv gcc-arm-none-eabi libnewlib-arm-none-eabi picolibc-arm-none-eabi
  qemu-system-arm qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  device-tree-compiler ninja-build cmake)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  rm -rf .venv   # absent, or left half-made by an interrupted set-up
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# setuptools announces every editable install of a package-dir-mapped layout as "BuildBackendWarning:
# Editable installation." although it is information only (pypa/packaging-problems#558); that one
# message is filtered, any real packaging warning still shows.
PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install -q -e ".[test,platformio]"
echo "setup: done ($(.venv/bin/mcuforge --version))"
