#!/usr/bin/env bash
# bench-storm.sh: reconnect storms at the goal scale (issue 12, docs/cluster.md "Reconnect
# storms"). Each fault runs on a fresh loopback cluster (cluster.sh: PostgreSQL, Redis, 3
# instances, nginx) with tm-load through nginx: 10,000 users in rooms of 10 at 1,000 msg/s, the
# fault 10 s into the sending, sending on for 10 s after it ended, then the exact database check
# (--verify-db):
#   kill      kill -9 of one instance: its third of the clients come back to the other two at once
#   nginx     nginx stopped and started again: every client reconnects at once
#   rolling   every instance in turn: SIGTERM (drain with `reconnect`), start, wait until nginx
#             routes to it and it holds its share of the connections again, next; measured over
#             TM_BENCH_ROLLING_SECONDS (default 240) so that the whole restart falls in the window
# With TM_BENCH_BASELINE_BIN (another taskmaster-server binary, e.g. built from an older commit)
# every fault runs once with each binary, alternating, and the table shows both: the same
# machine, the same tm-load, the same sitting.
# Writes the section <!-- bench:storm --> of docs/BENCHMARKS.md (TM_BENCH_DOC) with the command,
# the machine, the date and the durability settings of the PostgreSQL that ran, and prints it.
#
# Environment: TM_BUILD_DIR (default build/), TM_BENCH_FAULTS ("kill nginx rolling"),
# TM_BENCH_USERS (10000), TM_BENCH_RATE (1000), TM_BENCH_SECONDS (30 measured, after 5 of warm-up),
# TM_BENCH_BASELINE_BIN (none), TM_BENCH_OUT (reports; default a new /tmp/tm-bench-storm.XXXXXX),
# TM_BENCH_DOC (docs/BENCHMARKS.md; "-" prints only), TM_PG_DURABLE (default 1: PostgreSQL with
# fsync, full_page_writes and synchronous_commit on, as production runs; 0: the test suite's
# fast settings), TM_BENCH_REPORT_ONLY=1 (no runs: the table and section from the reports already
# in TM_BENCH_OUT, e.g. after adding a column).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

load=$build/tools/tm-load/tm-load
candidate=$build/server/taskmaster-server
baseline=${TM_BENCH_BASELINE_BIN:-}
[[ -z "$baseline" || -x "$baseline" ]] || {
  echo "bench-storm: TM_BENCH_BASELINE_BIN=$baseline is not executable" >&2
  exit 2
}
read -r -a faults <<<"${TM_BENCH_FAULTS:-kill nginx rolling}"
users=${TM_BENCH_USERS:-10000}
rate=${TM_BENCH_RATE:-1000}
seconds=${TM_BENCH_SECONDS:-30}
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}
tm_bench_setup storm "$load" "$candidate"
out=$TM_BENCH_OUT
# tm-load holds one socket per user, nginx two per WebSocket.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

variants=(candidate)
[[ -n "$baseline" ]] && variants+=(baseline)

# run FAULT VARIANT: one fresh cluster, one tm-load run into $out/FAULT-VARIANT.json.
run() {
  local fault=$1 variant=$2 bin cmd name=$1-$2 rc=0 duration=$seconds
  bin=$candidate
  [[ $variant == baseline ]] && bin=$baseline
  case $fault in
  kill) cmd="bash '$here/cluster.sh' kill-instance 2" ;;
  nginx) cmd="bash '$here/cluster.sh' restart-nginx" ;;
  rolling)
    cmd="bash '$here/cluster.sh' rolling-restart"
    duration=${TM_BENCH_ROLLING_SECONDS:-240}
    ;;
  *)
    echo "bench-storm: unknown fault $fault" >&2
    exit 2
    ;;
  esac
  echo "bench-storm: $name ($bin)" >&2
  # The cluster's PostgreSQL settings go into the report beside the figures.
  # shellcheck disable=SC2016 # the inner script's own variables
  TM_SERVER_BIN=$bin TM_CLUSTER_INSTANCES=3 TM_CLUSTER_NGINX_CONNECTIONS=16384 \
    "$here/with-cluster.sh" bash -c '
      for s in fsync full_page_writes synchronous_commit; do
        printf "%s=%s " "$s" "$(psql -XAtq "$TM_DATABASE_URL" -c "SHOW $s" 2>/dev/null)"
      done >"$0/$1.pg"
      source "$7/scripts/bench-lib.sh"
      mapfile -t pids < <(tm_bench_pid_args)
      exec "$2" --url "$TM_CLUSTER_URL" --seed-db "$TM_DATABASE_URL" --verify-db "$TM_DATABASE_URL" \
        --json "$0/$1.json" --users "$3" --room-size 10 --rate "$4" --duration "$5" --warmup 5 \
        --threads 2 --connect-timeout 300 --drain 60 --max-run 1200 --max-late-pct 5 --quiet \
        --fault-command "$6" --fault-at 10 --fault-tail 10 "${pids[@]}"' \
    "$out" "$name" "$load" "$users" "$rate" "$duration" "$cmd" "$root" >"$out/$name.txt" 2>"$out/$name.err" || rc=$?
  echo "$rc" >"$out/$name.rc"
  echo "bench-storm: $name: exit $rc" >&2
}

if ((tm_bench_runs)); then
  for f in "${faults[@]}"; do
    for v in "${variants[@]}"; do run "$f" "$v"; done
  done
fi

pg=$(cat "$out/${faults[0]}-candidate.pg" 2>/dev/null || true)
table=$(
  echo "| fault | server | connections lost | back | reconnect p50 s | p95 | max | untouched clients from the fault: delivery p50 ms | p95 | p99 | max | resent to them: count | p99 ms | worst second after the fault: untouched p99 ms | tm-load stall in it ms | reconnected clients: delivery p99 ms | ack p99 ms | sent / acked / dropped late | $TM_BENCH_COST_HEADERS | presence frames: online / offline / lists | lost/dup/ooo | db check | exit |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "${faults[@]}"; do
    for v in "${variants[@]}"; do
      j=$out/$f-$v.json
      [[ -f $j ]] || continue
      jq -r --arg f "$f" --arg v "$v" --arg rc "$(cat "$out/$f-$v.rc")" "$TM_BENCH_JQ_COST"'
        def ms: . * 10 | round / 10;
        def s: . / 100 | round / 10;
        . as $r
        | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
        | $r.latencyMs as $l
        | ([$r.timeline[] | select(.t > ($r.fault.startedAt // 0) and .t <= ($r.fault.startedAt // 0) + 10 and .keptP99 > 0)]
           | max_by(.keptP99) // {keptP99: 0, stallMaxMs: 0}) as $worst
        | "| \($f) | \($v) | \($r.connections.disconnects) | \($r.connections.reconnects) | \($l.reconnect.p50 | s) | \($l.reconnect.p95 | s) | \($l.reconnect.max | s) | \($l.deliveryKeptFromFault.p50 | ms) | \($l.deliveryKeptFromFault.p95 | ms) | \($l.deliveryKeptFromFault.p99 | ms) | \($l.deliveryKeptFromFault.max | ms) | \($l.deliveryResent.count // 0) | \(if ($l.deliveryResent.count // 0) > 0 then ($l.deliveryResent.p99 | ms) else "-" end) | \($worst.keptP99 | ms) | \($worst.stallMaxMs // 0 | ms) | \($l.deliveryResumed.p99 | ms) | \($l.ack.p99 | ms) | \($r.messages.sent) / \($r.messages.acked) / \($r.messages.lateDropped // 0) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($r.events.presenceOnline // "-") / \($r.events.presenceOffline // "-") / \($r.events.presenceLists // "-") | \($r.events.lost)/\($r.events.duplicated)/\($r.events.outOfOrder) | \($db) | \($rc) |"
      ' "$j"
    done
  done
)

section=$(
  echo "<!-- bench:storm -->"
  echo "### Reconnect storms at 10,000 users (3 instances behind nginx)"
  echo
  echo "Written by \`scripts/cluster/bench-storm.sh\` on $(date -u +%Y-%m-%d) ($(tm_bench_machine)):"
  echo "$users users in rooms of 10 over 3 instances at $rate msg/s for $seconds s (the rolling restart"
  echo "${TM_BENCH_ROLLING_SECONDS:-240} s, so that the whole restart falls in it; after 5 s of warm-up),"
  echo "the fault 10 s into the sending, each fault on a fresh cluster, every stream checked against"
  echo "PostgreSQL afterwards. PostgreSQL: ${pg:-settings not read}. The reconnect time is per lost"
  echo "connection, from losing it to its \`welcome\` again; \"untouched clients\" are the connections"
  echo "that were never lost, for the messages sent from the fault's start on (none after an nginx"
  echo "restart: every connection is lost), not counting \"resent to them\": the messages whose sender"
  echo "lost its own connection before the ack and sent them again after its reconnect (their latency is"
  echo "that sender's outage); \"reconnected clients\" counts what arrived after a reconnect, catch-up"
  echo "included. Presence frames: what the clients received over the whole run (the first connects"
  echo "included), one user each or the snapshot after \`welcome\` as one list. The worst second is the"
  echo "second of the 10 after the fault with the highest untouched p99; the tm-load stall in it is the"
  echo "longest its worker threads were late for their 2 ms send tick in that second (tm-load itself busy:"
  echo "every latency measured across the stall includes it). $TM_BENCH_COST_NOTE"
  echo "(The fault replaces a process: its instance's or nginx's cost shows \"-\".)${baseline:+ \`baseline\`: \`$(basename "$baseline")\` from TM_BENCH_BASELINE_BIN, alternating with the candidate in the same sitting.}"
  echo
  echo '```'
  echo "${baseline:+TM_BENCH_BASELINE_BIN=$baseline }TM_BENCH_FAULTS=\"${faults[*]}\" scripts/cluster/bench-storm.sh"
  echo '```'
  echo
  echo "$table"
  echo "<!-- /bench:storm -->"
)
echo "$section"
echo "bench-storm: reports in $out" >&2
if [[ "$doc" != "-" ]]; then
  tm_bench_write_section "$doc" storm "$section"
  echo "bench-storm: wrote the storm section of $doc" >&2
fi
