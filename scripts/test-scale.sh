#!/usr/bin/env bash
# Scale-out suite: 3 `faceproof serve` replicas (the release binary) on one PostgreSQL and one S3
# (moto), behind HAProxy using /readyz, everything on loopback, started and stopped here.
#
#   scripts/test-scale.sh            install what is missing, run the suite (about 3-4 minutes)
#
# PostgreSQL and moto come from scripts/test-services.sh; HAProxy from Debian's packages (installed
# when missing). The driver is scripts/scale_test.py (Python from the moto venv: requests, boto3);
# it prints one line of figures per phase and fails on the first broken claim. See docs/scaling.md.
# Needs: target/release/faceproof (`make build`), the models (`make models`), ../shared/data.
# Env: FACEPROOF_BIN (binary), SCALE_REPLICAS (3), SCALE_KILL_CAPTURES (36), SCALE_KILL_SECS (50).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
home="${FACEPROOF_HOME:-$HOME/.cache/faceproof}"

log() { echo "test-scale: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

inner() {
  local work status=0 pg
  work=$(mktemp -d "${TMPDIR:-/tmp}/faceproof-scale.XXXXXX")
  pg=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  SCALE_WORK="$work" SCALE_PSQL="$pg/psql" HAPROXY="$(command -v haproxy)" \
  FACEPROOF_BIN="${FACEPROOF_BIN:-$root/target/release/faceproof}" \
  FACEPROOF_SHARED_DATA="${FACEPROOF_SHARED_DATA:-${FACEPROOF_SHARED:-$root/../shared}/data}" \
    timeout --signal=TERM 600 "$home/moto-venv/bin/python" "$here/scale_test.py" || status=$?
  if ((status != 0)); then
    log "failed ($status); last lines of each log in $work:"
    for f in "$work"/*.log; do
      [[ -f "$f" ]] || continue
      echo "--- $f" >&2
      tail -n 15 "$f" >&2
    done
  fi
  rm -rf "$work"
  return "$status"
}

case "${1:-}" in
  inner)
    inner
    ;;
  "")
    [[ -x "${FACEPROOF_BIN:-$root/target/release/faceproof}" ]] \
      || { log "build the release binary first (make build)"; exit 1; }
    if ! command -v haproxy >/dev/null; then
      log "installing haproxy"
      export DEBIAN_FRONTEND=noninteractive
      as_root apt-get update -qq
      as_root apt-get install -y -qq --no-install-recommends haproxy >/dev/null
    fi
    # A HAProxy started by the package is not used: ours runs with its own config on free ports.
    bash "$here/test-services.sh" install
    start=$(date +%s)
    bash "$here/test-services.sh" run -- bash "$0" inner
    log "passed in $(($(date +%s) - start)) s"
    ;;
  *)
    echo "usage: $0" >&2
    exit 2
    ;;
esac
