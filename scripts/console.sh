#!/usr/bin/env bash
# Builds the operator console (console/) into console/dist/, which `faceproof serve` serves at
# /console/ (`[server.console] dir`). Installs its Node packages from the lockfile (npm ci) when
# missing; its browser tests use the same Debian chromium as the SDK's (scripts/sdk.sh installs it).
# Idempotent: skips npm ci when node_modules matches the lockfile, the build when dist/ is newer
# than every source.
set -euo pipefail
cd "$(dirname "$0")/../console"

command -v node >/dev/null || { echo "console: 'node' (>= 20) is required and missing" >&2; exit 1; }

stamp=node_modules/.faceproof-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

newest_src=$(find src index.html console.css build.mjs package-lock.json tsconfig.json -type f -newer dist/console.js 2>/dev/null | head -1 || true)
if [[ ! -f dist/console.js || -n $newest_src ]]; then
  node build.mjs
fi
