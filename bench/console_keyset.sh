#!/usr/bin/env bash
# The console's session list at 1M sessions on SQLite: builds a synthetic database with the real
# migrations (0001 + 0004), 1,000,000 sessions of one tenant over 90 days (plus 100,000 of another)
# with their code rows, then shows the query plan and times the first page and a deep page of each
# filter, with the exact SQL the store builds (crates/store/src/console.rs, `list_query`).
# Needs Debian's sqlite3 CLI. Usage: bash bench/console_keyset.sh [DB_PATH] (an existing DB_PATH
# built by an earlier run is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-$(mktemp -d)/console-bench.db}
if [[ -s $db ]] && [[ $(sqlite3 "$db" 'SELECT COUNT(*) FROM sessions' 2>/dev/null) == 1100000 ]]; then
  echo "reusing $db"
else
rm -f "$db"
sqlite3 "$db" < crates/store/migrations/0001_init.sql
sqlite3 "$db" < crates/store/migrations/0004_console.sql
start=$(date +%s)
sqlite3 "$db" <<'SQL'
PRAGMA journal_mode = WAL;
INSERT INTO tenants VALUES ('t1', 'bank', '{}', 0, NULL), ('t2', 'other', '{}', 0, NULL);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1099999)
INSERT INTO sessions (id, tenant_id, alias, api, kind, status, created_at, expires_at, consumed_at,
                      retain_until, result, outcome, need_review, codes, review)
SELECT printf('%08x-0000-4000-8000-%012x', i, i * 7919),
       CASE WHEN i < 1000000 THEN 't1' ELSE 't2' END,
       'ref-' || i,
       CASE i % 3 WHEN 0 THEN 'fpt' WHEN 1 THEN 'silent' ELSE 'advance' END,
       'liveness', 'complete',
       1760000000000 + (i % 1000000) * 7776,
       1760000000000 + (i % 1000000) * 7776 + 900000, NULL, 1900000000000,
       '{"verdict":{}}',
       CASE WHEN i % 10 < 7 THEN 'passed' WHEN i % 10 < 9 THEN 'refused' ELSE 'unusable' END,
       CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END,
       CASE WHEN i % 10 = 7 THEN 'spoof' WHEN i % 10 = 8 THEN 'face_blurry' WHEN i % 10 = 9 THEN 'no_face' ELSE '' END,
       CASE WHEN i % 100 = 0 THEN 'approved' ELSE NULL END
FROM n;
INSERT INTO session_codes (tenant_id, code, created_at, session_id, severity)
SELECT tenant_id, codes, created_at, id, 'error' FROM sessions WHERE codes <> '';
ANALYZE;
SQL
echo "built $(sqlite3 "$db" 'SELECT COUNT(*) FROM sessions') sessions, $(sqlite3 "$db" 'SELECT COUNT(*) FROM session_codes') code rows in $(( $(date +%s) - start )) s ($(du -h "$db" | cut -f1))"
fi

cols="s.id, s.alias, s.api, s.kind, s.status, s.created_at, s.outcome, s.need_review, s.codes, s.review"
mid=1763888000000   # a cursor half-way through the 90 days
queries=(
  "all, first page|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
  "all, deep page|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' AND (s.created_at, s.id) < ($mid, 'zzzz') ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
  "api=silent, deep|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' AND s.api = 'silent' AND (s.created_at, s.id) < ($mid, 'zzzz') ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
  "outcome=unusable, deep|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' AND s.outcome = 'unusable' AND (s.created_at, s.id) < ($mid, 'zzzz') ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
  "backlog (need_review, unreviewed)|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' AND s.need_review = 1 AND s.review IS NULL ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
  "code=spoof, deep|SELECT $cols FROM session_codes c JOIN sessions s ON s.id = c.session_id WHERE c.tenant_id = 't1' AND c.code = 'spoof' AND s.tenant_id = 't1' AND s.status <> 'pending' AND (c.created_at, c.session_id) < ($mid, 'zzzz') ORDER BY c.created_at DESC, c.session_id DESC LIMIT 51"
  "date range, one day|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' AND s.created_at >= $mid AND s.created_at < $((mid + 86400000)) ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
  "reference|SELECT $cols FROM sessions s WHERE s.tenant_id = 't1' AND s.status <> 'pending' AND s.alias = 'ref-123456' ORDER BY s.created_at DESC, s.id DESC LIMIT 51"
)
# What starting the CLI and opening the file cost alone (subtract it from each time).
base=()
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N)
  sqlite3 "$db" 'SELECT 1' > /dev/null
  base+=($(( ($(date +%s%N) - t0) / 1000 )))
done
printf 'sqlite3 start-up alone (SELECT 1): median %.1f ms\n' "$(echo "$(printf '%s\n' "${base[@]}" | sort -n | sed -n 3p) / 1000" | bc -l)"
printf '%-36s %10s  %s\n' "query" "median ms" "plan"
for q in "${queries[@]}"; do
  name=${q%%|*}
  sql=${q#*|}
  plan=$(sqlite3 "$db" "EXPLAIN QUERY PLAN $sql" | sed 's/^[|` -]*//' | tr '\n' ';' | sed 's/;$//')
  times=()
  for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    sqlite3 "$db" "$sql" > /dev/null
    times+=($(( ($(date +%s%N) - t0) / 1000 )))
  done
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  printf '%-36s %10.1f  %s\n' "$name" "$(echo "$med / 1000" | bc -l)" "$plan"
done
