#!/usr/bin/env bash
# Checks deploy/: the Kubernetes manifests against the Kubernetes API's JSON schemas (strict: an
# unknown or misspelt field fails), offline, with the PyPI package kubernetes-validate (it ships
# the schemas); and the ConfigMap's faceproof.toml against the binary's own configuration parser.
#
#   scripts/validate-deploy.sh [K8S_VERSION...]    default: 1.29.0 and 1.37.0
#
# Not checked here (no container runtime or cluster on the development machines): building the
# image (deploy/Dockerfile), and applying the manifests to a cluster.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
home="${FACEPROOF_HOME:-$HOME/.cache/faceproof}"
venv="$home/deploy-venv"
VALIDATE_VERSION="1.37.0"

if [[ "$(cat "$venv/.version" 2>/dev/null)" != "$VALIDATE_VERSION" ]]; then
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "kubernetes-validate==$VALIDATE_VERSION"
  echo "$VALIDATE_VERSION" >"$venv/.version"
fi

versions=("$@")
((${#versions[@]})) || versions=(1.29.0 1.37.0)
for v in "${versions[@]}"; do
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$v" "$root"/deploy/k8s/*.yaml
  echo "validate-deploy: manifests valid against Kubernetes $v"
done

# The ConfigMap's TOML: `serve` parses the whole file (unknown keys refused) before it touches
# the network, so a configuration error answers invalid_config; a good file gets as far as
# connecting to the (absent) database.
bin="${FACEPROOF_BIN:-$root/target/release/faceproof}"
if [[ -x "$bin" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$venv/bin/python" - "$root/deploy/k8s/configmap.yaml" "$tmp/faceproof.toml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "w").write(doc["data"]["faceproof.toml"])
PY
  out=$(FACEPROOF_MASTER_KEY=$(printf '%064d' 0) PGCONNECT_TIMEOUT=2 timeout 60 \
    "$bin" serve --config "$tmp/faceproof.toml" --no-demo 2>/dev/null || true)
  if grep -q '"invalid_config"' <<<"$out"; then
    echo "validate-deploy: the ConfigMap's faceproof.toml is refused: $out" >&2
    exit 1
  fi
  echo "validate-deploy: the ConfigMap's faceproof.toml parses (serve stopped at: $(grep -o '"code":"[a-z_]*"' <<<"$out" | head -1))"
else
  echo "validate-deploy: $bin missing: the ConfigMap's TOML was not checked (make build)" >&2
fi
