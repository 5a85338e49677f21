#!/usr/bin/env bash
# bench-http.sh: REST latency and throughput under wrk on loopback, on SQLite and PostgreSQL.
# For each back end it starts taskmaster-server, seeds one user, one room and 200 messages, and
# measures, in the same run: GET /health (QtHttpServer's own ceiling: a trivial route), the
# uncached GET /api/v1/rooms, GET /api/v1/rooms/1/messages (the latest page, served by the
# in-process REST cache) and the same 50 messages uncached (?after=150: older pages are never
# cached), so cached and uncached compare in one run. Prints a table and
# writes it to docs/BENCHMARKS.md. Environment: TM_BENCH_SECONDS (per route, default 10),
# TM_BENCH_CONNECTIONS (default 32), TM_BENCH_THREADS (wrk threads, default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=bench-lib.sh
source "$root/scripts/bench-lib.sh"
# shellcheck source=services.sh
source "$root/scripts/services.sh"
"$root/scripts/setup.sh" >/dev/null
"$root/scripts/build.sh" -DTM_BUILD_SERVER=ON >/dev/null
seconds=${TM_BENCH_SECONDS:-10}
connections=${TM_BENCH_CONNECTIONS:-32}
threads=${TM_BENCH_THREADS:-1}

work=$(mktemp -d /tmp/tm-bench-http.XXXXXX)
chmod 755 "$work"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  tm_pg_stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

# wrk reports these percentiles through its done() hook.
tm_bench_wrk_report >"$work/report.lua"

start_server() { # args: extra server arguments; sets base
  local port
  port=$(tm_free_port)
  # TM_BENCH_WRAPPER runs the server under a tool, e.g. "gdb -q -batch -ex run -ex bt --args".
  ${TM_BENCH_WRAPPER:-} "$build/server/taskmaster-server" --listen "127.0.0.1:$port" --data-dir "$work/data-$port" --rate-auth 0 --rate-api 0 "$@" >"$work/server.log" 2>&1 &
  server_pid=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && return 0; sleep 0.1; done
  echo "bench-http: the server did not start" >&2
  cat "$work/server.log" >&2
  return 1
}

seed() { # sets token
  local j='Content-Type: application/json'
  token=$(curl -sf -X POST "$base/api/v1/auth/register" -H "$j" \
    -d '{"username":"bench","password":"password123","displayName":"Bench"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
  curl -sf -X POST "$base/api/v1/rooms" -H "$j" -H "Authorization: Bearer $token" -d '{"name":"bench","memberIds":[]}' >/dev/null
  for i in $(seq 200); do
    curl -sf -X POST "$base/api/v1/rooms/1/messages" -H "$j" -H "Authorization: Bearer $token" \
      -d "{\"body\":\"benchmark message number $i with some text in it\"}" >/dev/null
  done
}

measure() { # backend route label [auth]
  local backend=$1 route=$2 label=$3 auth=${4:-}
  local args=(-t "$threads" -c "$connections" -d "${seconds}s" -s "$work/report.lua")
  [[ -n "$auth" ]] && args+=(-H "Authorization: Bearer $token")
  local line
  # Warm-up, not recorded: the database pool opens its connections, caches fill.
  wrk -t "$threads" -c "$connections" -d 2s "${args[@]:8}" "$base$route" >/dev/null
  line=$(wrk "${args[@]}" "$base$route" | grep '^RESULT')
  read -r _ rps p50 p95 p99 errors total <<<"$line"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$backend" "$label" "$rps" "$p50" "$p95" "$p99" "$errors/$total"
}

rows=""
for backend in sqlite postgres; do
  extra=()
  if [[ $backend == postgres ]]; then
    tm_pg_start "$work/pg"
    extra=(--database-url "$TM_PG_URL")
  fi
  start_server "${extra[@]}"
  seed
  rows+=$(measure "$backend" /health "GET /health (ceiling)")$'\n'
  rows+=$(measure "$backend" /api/v1/rooms "GET /api/v1/rooms" auth)$'\n'
  rows+=$(measure "$backend" "/api/v1/rooms/1/messages" "GET /api/v1/rooms/1/messages (latest 50, cached)" auth)$'\n'
  rows+=$(measure "$backend" "/api/v1/rooms/1/messages?after=150" "GET /api/v1/rooms/1/messages?after=150 (same 50, uncached)" auth)$'\n'
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "bench-http: the server died; its log:" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
  fi
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done

table="| back end | route | requests/s | p50 ms | p95 ms | p99 ms | errors/requests |
|---|---|---|---|---|---|---|
${rows%$'\n'}"
echo "$table"
section="<!-- bench:http -->
### REST under wrk (one instance; cached and uncached)

Command: \`TM_BENCH_SECONDS=$seconds TM_BENCH_CONNECTIONS=$connections TM_BENCH_THREADS=$threads scripts/bench-http.sh\`
Machine: $(tm_bench_machine); wrk runs on the same 2 cores as the server. Date: $(date -u +%Y-%m-%d).

$table
<!-- /bench:http -->"
tm_bench_write_section "$root/docs/BENCHMARKS.md" http "$section"
