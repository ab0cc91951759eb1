#!/usr/bin/env bash
# Throwaway PostgreSQL + S3 (moto) on loopback for the storage tests.
#
#   scripts/test-services.sh install            install what is missing (idempotent, quiet when done)
#   scripts/test-services.sh run -- CMD [ARG...] start both, run CMD with the variables below, stop both
#
# CMD sees:
#   FACEPROOF_TEST_DATABASE_URL   postgres://app:app@127.0.0.1:PORT/app   (role app may CREATE DATABASE)
#   FACEPROOF_TEST_S3_ENDPOINT    http://127.0.0.1:PORT
#   FACEPROOF_TEST_S3_BUCKET      faceproof-test
#   FACEPROOF_TEST_S3_ACCESS_KEY / FACEPROOF_TEST_S3_SECRET_KEY   test / test
#
# PostgreSQL runs as a private cluster in a temporary directory (not the system's cluster), on a free
# port with password (SCRAM) authentication over TCP; moto keeps everything in memory. Both stop and
# the directory is removed on exit, whatever CMD returns; the script exits with CMD's status.
# Ports: free ones picked at start, or FACEPROOF_TEST_PG_PORT / FACEPROOF_TEST_S3_PORT.
# Needs Debian 12 (apt-get, as root or with sudo, only when PostgreSQL is missing) and python3.
set -euo pipefail

MOTO_VERSION="5.2.5"
home="${FACEPROOF_HOME:-$HOME/.cache/faceproof}"
venv="$home/moto-venv"
bucket="faceproof-test"

log() { echo "test-services: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$d" && -x "$d/initdb" ]] && echo "$d"
}

install() {
  if ! pg_bin >/dev/null; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  if [[ ! -x "$venv/bin/moto_server" || "$(cat "$venv/.moto-version" 2>/dev/null)" != "$MOTO_VERSION" ]]; then
    log "installing moto[server]==$MOTO_VERSION into $venv"
    command -v python3 >/dev/null || { log "python3 is required"; exit 1; }
    if ! python3 -m venv --clear "$venv" 2>/dev/null; then
      export DEBIAN_FRONTEND=noninteractive
      as_root apt-get update -qq
      as_root apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv --clear "$venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    echo "$MOTO_VERSION" >"$venv/.moto-version"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=""
moto_pid=""
pg_started=""

stop_all() {
  if [[ -n "$moto_pid" ]]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  if [[ -n "$pg_started" ]]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [[ -n "$work" ]] && rm -rf "$work"
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

run() {
  install
  local bin pg_port s3_port
  bin=$(pg_bin)
  pg_port="${FACEPROOF_TEST_PG_PORT:-$(free_port)}"
  s3_port="${FACEPROOF_TEST_S3_PORT:-$(free_port)}"
  work=$(mktemp -d "${TMPDIR:-/tmp}/faceproof-services.XXXXXX")
  trap stop_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # PostgreSQL: private cluster, socket in the work dir, TCP on 127.0.0.1 only.
  echo postgres >"$work/pwfile"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$work"
  as_pg "$bin/initdb" -D "$work/pg" -U postgres --pwfile="$work/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --no-sync >"$work/initdb.log" 2>&1 \
    || { cat "$work/initdb.log" >&2; exit 1; }
  as_pg "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work -c fsync=off -c full_page_writes=off" \
    start >/dev/null || { cat "$work/pg.log" >&2; exit 1; }
  pg_started=1
  as_pg "$bin/psql" -h "$work" -p "$pg_port" -U postgres -d postgres -qAt \
    -c "CREATE ROLE app LOGIN PASSWORD 'app' CREATEDB" -c "CREATE DATABASE app OWNER app" >/dev/null

  # S3: moto in memory, then one bucket.
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$venv/bin/python" - "$s3_port" "$bucket" <<'EOF' \
    || { cat "$work/moto.log" >&2; exit 1; }
import sys, time, urllib.request
import boto3
port, bucket = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}"
for _ in range(150):
    try:
        urllib.request.urlopen(url, timeout=1)
        break
    except Exception:
        time.sleep(0.2)
else:
    sys.exit(f"moto did not answer on {url}")
boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=bucket)
EOF

  log "postgres on 127.0.0.1:$pg_port, s3 (moto) on 127.0.0.1:$s3_port"
  local status=0
  FACEPROOF_TEST_DATABASE_URL="postgres://app:app@127.0.0.1:$pg_port/app" \
  FACEPROOF_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port" \
  FACEPROOF_TEST_S3_BUCKET="$bucket" \
  FACEPROOF_TEST_S3_ACCESS_KEY=test \
  FACEPROOF_TEST_S3_SECRET_KEY=test \
    "$@" || status=$?
  return "$status"
}

case "${1:-}" in
  install)
    install
    ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    (($#)) || { log "usage: $0 run -- CMD [ARG...]"; exit 2; }
    run "$@"
    ;;
  *)
    echo "usage: $0 install | run -- CMD [ARG...]" >&2
    exit 2
    ;;
esac
