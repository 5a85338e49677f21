#!/usr/bin/env bash
# bench-scale.sh: the scale scenarios of issue 6 and the fault scenarios of issue 5 on a loopback
# cluster (cluster.sh: PostgreSQL, Redis, 3 instances, nginx), every run driven by tm-load through
# nginx and checked exactly against PostgreSQL (--verify-db):
#   ramp       100 -> 500 -> 1000 users (tm-load --scenario ramp), messages and the REST mix
#   burst      0 -> 500 users at once (--scenario burst)
#   sustained  1000 users at the full rate (--scenario sustained), with a PNG of the timeline
#   goal       docs/architecture.md's goal: 10,000 users over the 3 instances at 1,000 msg/s (60,000
#              messages/min) for 60 s (times the factor), with a PNG of the timeline
#   faults     kill -9 of an instance, Redis restarted, rolling restart, each during steady traffic
# Durations are the spec's times times TM_BENCH_FACTOR (1: ramp 3 x 180 s, burst 120 s, sustained
# 600 s; 0.1: about a minute each). Prints a Markdown section (tables and the commands) on stdout
# and keeps every JSON report and plot in TM_BENCH_OUT.
#
# Environment: TM_BUILD_DIR (default build/: tm-load and taskmaster-server are taken from it),
# TM_BENCH_FACTOR (1), TM_BENCH_USERS (1000), TM_BENCH_BURST_USERS (500), TM_BENCH_RATE (messages/s
# at the top of each scenario, default 0.2 per user), TM_BENCH_REST_RATE (REST requests/s, 50),
# TM_BENCH_FAULT_USERS (1000), TM_BENCH_FAULT_RATE (200), TM_BENCH_FAULT_SECONDS (20),
# TM_BENCH_SCENARIOS ("ramp burst sustained"; add "goal"), TM_BENCH_GOAL_USERS (10000),
# TM_BENCH_GOAL_RATE (1000), TM_BENCH_FAULTS ("kill redis rolling"),
# TM_BENCH_OUT (directory for the reports, default a new /tmp/tm-bench-scale.XXXXXX),
# TM_BENCH_PLOT (copy the sustained run's PNG there). Runs inside TM_CLUSTER_DIR's cluster when
# cluster.env is there, else starts one with with-cluster.sh and stops it at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
export TM_SERVER_BIN=${TM_SERVER_BIN:-$build/server/taskmaster-server}

if [[ -z "${TM_CLUSTER_DIR:-}" || ! -f "${TM_CLUSTER_DIR:-}/cluster.env" ]]; then
  unset TM_CLUSTER_DIR
  export TM_CLUSTER_INSTANCES=3
  # 10,000 proxied WebSockets take 20,000 of nginx's connections.
  export TM_CLUSTER_NGINX_CONNECTIONS=${TM_CLUSTER_NGINX_CONNECTIONS:-16384}
  exec "$here/with-cluster.sh" "$0" "$@"
fi
set -a
# shellcheck disable=SC1091
source "$TM_CLUSTER_DIR/cluster.env"
set +a
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

load=$build/tools/tm-load/tm-load
[[ -x "$load" ]] || {
  echo "bench-scale: no $load (build the tm-load target)" >&2
  exit 2
}
command -v jq >/dev/null || {
  echo "bench-scale: needs jq" >&2
  exit 2
}
factor=${TM_BENCH_FACTOR:-1}
users=${TM_BENCH_USERS:-1000}
burst_users=${TM_BENCH_BURST_USERS:-500}
rest_rate=${TM_BENCH_REST_RATE:-50}
fault_users=${TM_BENCH_FAULT_USERS:-1000}
fault_rate=${TM_BENCH_FAULT_RATE:-200}
fault_seconds=${TM_BENCH_FAULT_SECONDS:-20}
read -r -a scenarios <<<"${TM_BENCH_SCENARIOS:-ramp burst sustained}"
read -r -a faults <<<"${TM_BENCH_FAULTS:-kill redis rolling}"
out=${TM_BENCH_OUT:-$(mktemp -d /tmp/tm-bench-scale.XXXXXX)}
mkdir -p "$out"
tokens=$out/tokens.json

# The instances' current pids (restarts change them): --server-pid arguments, and --proxy-pid
# for nginx's workers.
server_pids() {
  # shellcheck disable=SC1091
  source "$TM_CLUSTER_DIR/cluster.env"
  tm_bench_pid_args
}

# run NAME ARGS...: one tm-load run into $out/NAME.json (and its table into NAME.txt).
run() {
  local name=$1 rc=0
  shift
  local pids
  mapfile -t pids < <(server_pids)
  echo "bench-scale: $name: tm-load $*" >&2
  # Users are inserted into the database (--seed-db), not registered: seconds instead of minutes.
  "$load" --url "$TM_CLUSTER_URL" --tokens "$tokens" --json "$out/$name.json" --verify-db "$TM_DATABASE_URL" \
    --seed-db "$TM_DATABASE_URL" \
    --room-size 10 --threads 2 --quiet "${pids[@]}" "$@" >"$out/$name.txt" 2>"$out/$name.err" || rc=$?
  echo "bench-scale: $name: exit $rc" >&2
  tail -n 3 "$out/$name.txt" >&2
  echo "$rc" >"$out/$name.rc"
}

for s in "${scenarios[@]}"; do
  if [[ $s == goal ]]; then
    goal_seconds=$(awk -v f="$factor" 'BEGIN { s = int(60 * f); print (s < 10 ? 10 : s) }')
    run goal --users "${TM_BENCH_GOAL_USERS:-10000}" --rate "${TM_BENCH_GOAL_RATE:-1000}" --duration "$goal_seconds" \
      --warmup 10 --drain 60 --connect-timeout 300 --max-run 3000 --plot "$out/goal.png"
    continue
  fi
  case $s in
  ramp | sustained) n=$users ;;
  burst) n=$burst_users ;;
  *)
    echo "bench-scale: unknown scenario $s" >&2
    exit 2
    ;;
  esac
  rate=${TM_BENCH_RATE:-$(awk -v n="$n" 'BEGIN { print n * 0.2 }')}
  run "$s" --scenario "$s" --duration-factor "$factor" --users "$n" --rate "$rate" --rest-rate "$rest_rate" \
    --drain 60 --connect-timeout 120 --max-run 7000 --plot "$out/$s.png"
done
for f in "${faults[@]}"; do
  case $f in
  kill) cmd="bash '$here/cluster.sh' kill-instance 2" ;;
  redis) cmd="bash '$here/cluster.sh' restart-redis" ;;
  rolling) cmd="bash '$here/cluster.sh' rolling-restart" ;;
  *)
    echo "bench-scale: unknown fault $f" >&2
    exit 2
    ;;
  esac
  run "fault-$f" --users "$fault_users" --rate "$fault_rate" --duration "$fault_seconds" --warmup 2 --drain 60 \
    --fault-command "$cmd" --fault-at 5 --fault-tail 5 --connect-timeout 120 --plot "$out/fault-$f.png"
  if [[ $f == kill ]]; then "$here/cluster.sh" start-instance 2 >&2; fi
done
if [[ -n "${TM_BENCH_PLOT:-}" && -f "$out/sustained.png" ]]; then cp "$out/sustained.png" "$TM_BENCH_PLOT"; fi

# ---- Markdown ----------------------------------------------------------------------------------
echo "Reports: $out (JSON, tables, plots). Factor $factor."
echo
echo "| scenario | step | users | target msg/s | sent msg/s | delivery p50 ms | p95 | p99 | max | connect p95 ms | $TM_BENCH_COST_HEADERS | lost/dup/ooo | db check | exit |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for s in "${scenarios[@]}"; do
  j=$out/$s.json
  [[ -f $j ]] || continue
  jq -r --arg s "$s" --arg rc "$(cat "$out/$s.rc")" "$TM_BENCH_JQ_COST"'
    . as $r
    | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
    | ($r.events | "\(.lost)/\(.duplicated)/\(.outOfOrder)") as $loss
    | ($r.stages[] | "| \($s) | \(.name) | \(.users) | \(.rate) | \((.sent / .seconds) * 10 | round / 10) | \(.delivery.p50 * 100 | round / 100) | \(.delivery.p95 * 100 | round / 100) | \(.delivery.p99 * 100 | round / 100) | \(.delivery.max * 100 | round / 100) | \(.connect.p95 * 10 | round / 10) | | | | | |"),
      "| \($s) | whole run | \($r.config.users) | | \($r.messages.measuredRate * 10 | round / 10) | \($r.latencyMs.delivery.p50 * 100 | round / 100) | \($r.latencyMs.delivery.p95 * 100 | round / 100) | \($r.latencyMs.delivery.p99 * 100 | round / 100) | \($r.latencyMs.delivery.max * 100 | round / 100) | \($r.latencyMs.connect.p95 * 10 | round / 10) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($loss) | \($db) | \($rc) |"
  ' "$j"
done
echo
echo "| scenario | instance RSS max MB (each) | server CPU % (each, of one core) | tm-load CPU % | REST route | requests | req/s | errors | p50 ms | p95 | p99 |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for s in "${scenarios[@]}"; do
  j=$out/$s.json
  [[ -f $j ]] || continue
  jq -r --arg s "$s" '
    . as $r
    | ([$r.servers[] | (.rssMaxBytes / 1048576 * 10 | round / 10 | tostring)] | join(" / ")) as $rss
    | ([$r.servers[] | ((.loadCpuPercent // 0) * 10 | round / 10 | tostring)] | join(" / ")) as $cpu
    | (($r.self.loadCpuPercent // 0) * 10 | round / 10) as $self
    | ($r.rest | to_entries[] | "| \(if .key == 0 then $s else "" end) | \(if .key == 0 then $rss else "" end) | \(if .key == 0 then $cpu else "" end) | \(if .key == 0 then $self else "" end) | \(.value.route) | \(.value.requests) | \(.value.perSecond * 10 | round / 10) | \(.value.errors) | \(.value.latencyMs.p50 * 100 | round / 100) | \(.value.latencyMs.p95 * 100 | round / 100) | \(.value.latencyMs.p99 * 100 | round / 100) |")
  ' "$j"
done
echo
echo "| fault | fault took s | users | msg/s | sent | acked | disconnects / reconnects | resumed events | delivery p50 ms | p99 | max | $TM_BENCH_COST_HEADERS | lost/dup/ooo | db check | exit |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in "${faults[@]}"; do
  j=$out/fault-$f.json
  [[ -f $j ]] || continue
  jq -r --arg f "$f" --arg rc "$(cat "$out/fault-$f.rc")" "$TM_BENCH_JQ_COST"'
    . as $r
    | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, \(.acked) acks = \(.stored) stored, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
    | "| \($r.fault.command | sub(".*cluster.sh. "; "")) | \(($r.fault.endedAt - $r.fault.startedAt) * 10 | round / 10) | \($r.config.users) | \($r.config.rate) | \($r.messages.sent) | \($r.messages.acked) | \($r.connections.disconnects) / \($r.connections.reconnects) | \($r.connections.resumedEvents) | \($r.latencyMs.delivery.p50 * 100 | round / 100) | \($r.latencyMs.delivery.p99 * 100 | round / 100) | \($r.latencyMs.delivery.max * 100 | round / 100) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($r.events.lost)/\($r.events.duplicated)/\($r.events.outOfOrder) | \($db) | \($rc) |"
  ' "$j"
done
echo
echo "$TM_BENCH_COST_NOTE"
