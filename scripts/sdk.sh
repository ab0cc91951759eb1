#!/usr/bin/env bash
# Builds the web capture SDK (sdk/web) into sdk/web/dist/, which `faceproof serve` serves under
# /sdk/ (and the demo under /demo/). Installs what the SDK and its browser tests need when missing:
# the Node packages from the lockfile (npm ci) and Debian's chromium for the end-to-end suite.
# Idempotent: skips npm ci when node_modules matches the lockfile, the build when dist/ is newer
# than every source. Needs root (or sudo) only when chromium is missing.
set -euo pipefail
cd "$(dirname "$0")/../sdk/web"

command -v node >/dev/null || { echo "sdk: 'node' (>= 20) is required and missing" >&2; exit 1; }

if ! command -v chromium >/dev/null; then
  echo "sdk: installing chromium (browser tests)"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# npm ci only when the lockfile changed since the last install
stamp=node_modules/.faceproof-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

newest_src=$(find src demo build.mjs package-lock.json tsconfig.json -type f -newer dist/faceproof-capture.js 2>/dev/null | head -1 || true)
if [[ ! -f dist/faceproof-capture.js || -n $newest_src ]]; then
  node build.mjs
fi
