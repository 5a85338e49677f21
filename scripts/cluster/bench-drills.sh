#!/usr/bin/env bash
# bench-drills.sh: the fault drills of issue 15 (docs/cluster.md "Fault drills") at a moderate
# size. Each fault runs on a fresh loopback cluster (cluster.sh: PostgreSQL durable with
# TM_PG_DURABLE=1, i.e. fsync, synchronous_commit and full_page_writes on; Redis; 3 instances;
# nginx) with tm-load through nginx: TM_BENCH_USERS users in rooms of 10 at TM_BENCH_RATE msg/s,
# the fault 10 s into the sending, sending on for 10 s after it ended, then the exact database
# check (--verify-db):
#   postgres  PostgreSQL stopped at once (pg_ctl -m immediate: a crash) and started again; sends
#             whose ack was lost with it may be stored (--unacked-may-be-stored), then their events
#             must have reached every connection like any other
#   nginx     nginx stopped and started again: every client reconnects
#   redis30   Redis stopped, kept down 30 s, started again (empty)
#   cutoff    tm-3 alone cut off Redis for 30 s (its link runs through tm-tcp-proxy: cluster.sh
#             proxy-redis 3, then cut-redis 3 30) while tm-1 and tm-2 keep it
# Writes the section <!-- bench:drills --> of docs/BENCHMARKS.md (TM_BENCH_DOC) with the command,
# the machine, the date and the durability settings of the PostgreSQL that ran, and prints it.
#
# Environment: TM_BUILD_DIR (default build/), TM_BENCH_FAULTS ("postgres nginx redis30 cutoff"),
# TM_BENCH_USERS (1500), TM_BENCH_RATE (300), TM_BENCH_SECONDS (20 measured, after 5 of warm-up),
# TM_BENCH_OUT (reports; default a new /tmp/tm-bench-drills.XXXXXX), TM_BENCH_DOC
# (docs/BENCHMARKS.md; "-" prints only), TM_BENCH_REPORT_ONLY=1 (no runs: the section from the
# reports in TM_BENCH_OUT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

load=$build/tools/tm-load/tm-load
server=$build/server/taskmaster-server
proxy=$build/tests/support/tm-tcp-proxy
read -r -a faults <<<"${TM_BENCH_FAULTS:-postgres nginx redis30 cutoff}"
users=${TM_BENCH_USERS:-1500}
rate=${TM_BENCH_RATE:-300}
seconds=${TM_BENCH_SECONDS:-20}
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}
tm_bench_setup drills "$load" "$server" "$proxy"
out=$TM_BENCH_OUT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# run FAULT: one fresh cluster, one tm-load run into $out/FAULT.json.
run() {
  local fault=$1 cmd setup=true extra="" rc=0
  case $fault in
  postgres)
    cmd="bash '$here/cluster.sh' restart-postgres"
    extra=--unacked-may-be-stored
    ;;
  nginx) cmd="bash '$here/cluster.sh' restart-nginx" ;;
  redis30) cmd="bash '$here/cluster.sh' restart-redis 30" ;;
  cutoff)
    setup="bash '$here/cluster.sh' proxy-redis 3"
    cmd="bash '$here/cluster.sh' cut-redis 3 30"
    ;;
  *)
    echo "bench-drills: unknown fault $fault" >&2
    exit 2
    ;;
  esac
  echo "bench-drills: $fault" >&2
  # The cluster's PostgreSQL settings go into the report beside the figures.
  # shellcheck disable=SC2016 # the inner script's own variables
  TM_PG_DURABLE=1 TM_SERVER_BIN=$server TM_TCP_PROXY_BIN=$proxy TM_CLUSTER_INSTANCES=3 \
    "$here/with-cluster.sh" bash -c '
      for s in fsync full_page_writes synchronous_commit; do
        printf "%s=%s " "$s" "$(psql -XAtq "$TM_DATABASE_URL" -c "SHOW $s" 2>/dev/null)"
      done >"$0/$1.pg"
      sh -c "$7" || exit 2
      # The set-up may have restarted an instance: its pid from cluster.env as it is now.
      set -a && source "$TM_CLUSTER_DIR/cluster.env" && set +a
      source "$9/scripts/bench-lib.sh"
      mapfile -t pids < <(tm_bench_pid_args)
      exec "$2" --url "$TM_CLUSTER_URL" --seed-db "$TM_DATABASE_URL" --verify-db "$TM_DATABASE_URL" $8 \
        --json "$0/$1.json" --users "$3" --room-size 10 --rate "$4" --duration "$5" --warmup 5 \
        --threads 2 --connect-timeout 300 --drain 60 --max-run 1200 --max-late-pct 5 --quiet \
        --fault-command "$6" --fault-at 10 --fault-tail 10 "${pids[@]}"' \
    "$out" "$fault" "$load" "$users" "$rate" "$seconds" "$cmd" "$setup" "$extra" "$root" >"$out/$fault.txt" 2>"$out/$fault.err" || rc=$?
  echo "$rc" >"$out/$fault.rc"
  echo "bench-drills: $fault: exit $rc" >&2
}

if ((tm_bench_runs)); then
  for f in "${faults[@]}"; do run "$f"; done
fi

pg=$(cat "$out/${faults[0]}.pg" 2>/dev/null || true)
table=$(
  echo "| fault | fault took s | sent / acked / refused | stored without ack | connections lost / back | reconnect p95 s | delivery p50 ms | p99 | max | untouched clients from the fault: p99 ms | ack p99 ms | $TM_BENCH_COST_HEADERS | lost/dup/ooo | db check | exit |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "${faults[@]}"; do
    j=$out/$f.json
    [[ -f $j ]] || continue
    jq -r --arg f "$f" --arg rc "$(cat "$out/$f.rc")" "$TM_BENCH_JQ_COST"'
      def ms: . * 10 | round / 10;
      def s: . / 100 | round / 10;
      def dash: if . == null then "-" else . end;
      . as $r
      | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, \(.acked) acks = \(.stored - (.storedUnackedAllowed // 0)) stored, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
      | $r.latencyMs as $l
      | "| \($f) | \(($r.fault.endedAt - $r.fault.startedAt) * 10 | round / 10) | \($r.messages.sent) / \($r.messages.acked) / \($r.messages.sendErrors) | \($r.verification.storedUnackedAllowed // 0) | \($r.connections.disconnects) / \($r.connections.reconnects) | \(if $r.connections.reconnects > 0 then ($l.reconnect.p95 | s) else "-" end) | \($l.delivery.p50 | ms) | \($l.delivery.p99 | ms) | \($l.delivery.max | ms) | \(if $l.deliveryKeptFromFault.count > 0 then ($l.deliveryKeptFromFault.p99 | ms) else "-" end) | \($l.ack.p99 | ms) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($r.events.lost)/\($r.events.duplicated)/\($r.events.outOfOrder) | \($db) | \($rc) |"
    ' "$j"
  done
)

section=$(
  echo "<!-- bench:drills -->"
  echo "### Fault drills with durable PostgreSQL (3 instances behind nginx)"
  echo
  echo "Written by \`scripts/cluster/bench-drills.sh\` on $(date -u +%Y-%m-%d) ($(tm_bench_machine)):"
  echo "$users users in rooms of 10 over 3 instances at $rate msg/s for $seconds s (after 5 s of warm-up),"
  echo "the fault 10 s into the sending and sending on for 10 s after it ended, each fault on a fresh"
  echo "cluster, every stream and every send checked against PostgreSQL afterwards. PostgreSQL:"
  echo "${pg:-settings not read}. \"refused\": sends answered with an error frame (the database"
  echo "unreachable); \"stored without ack\": of those, rows the database holds anyway (the commit"
  echo "went through, its answer was lost), whose events reached every connection. Latencies over the"
  echo "whole measured window, the fault included; \"untouched clients\" are the connections never"
  echo "lost, for the messages sent from the fault's start on. $TM_BENCH_COST_NOTE"
  echo
  echo '```'
  echo "TM_BENCH_USERS=$users TM_BENCH_RATE=$rate TM_BENCH_SECONDS=$seconds TM_BENCH_FAULTS=\"${faults[*]}\" scripts/cluster/bench-drills.sh"
  echo '```'
  echo
  echo "$table"
  echo "<!-- /bench:drills -->"
)
echo "$section"
echo "bench-drills: reports in $out" >&2
if [[ "$doc" != "-" ]]; then
  tm_bench_write_section "$doc" drills "$section"
  echo "bench-drills: wrote the drills section of $doc" >&2
fi
