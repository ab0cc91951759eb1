#!/usr/bin/env bash
# Builds the interactive API reference (apidocs/) into apidocs/dist/, which `faceproof serve`
# serves at /docs/ (`[server] apidocs_dir`): Swagger UI's own files from the swagger-ui-dist
# package, installed from the lockfile (npm ci, install scripts off: its analytics dependency's
# postinstall never runs), next to our page and its start-up script. Idempotent: skips npm ci when
# node_modules matches the lockfile.
set -euo pipefail
cd "$(dirname "$0")/../apidocs"

command -v node >/dev/null || { echo "apidocs: 'node' (>= 20) is required and missing" >&2; exit 1; }

stamp=node_modules/.faceproof-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

ui=node_modules/swagger-ui-dist
mkdir -p dist
cp index.html init.js dist/
cp "$ui/swagger-ui-bundle.js" "$ui/swagger-ui.css" dist/
cp "$ui/LICENSE" dist/SWAGGER-UI-LICENSE
