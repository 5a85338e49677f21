#!/usr/bin/env bash
# bench-knee.sh: the "Knee" scenario of issue 18. On one loopback cluster (cluster.sh: durable
# PostgreSQL, Redis, 3 instances, nginx) tm-load through nginx drives TM_BENCH_USERS users (default
# 1,000) in rooms of 50 (50 deliveries per message) at a rising send rate, one run per step
# (TM_BENCH_RATES, default "250 500 1000 1500 2000 3000 4000" msg/s; TM_BENCH_SECONDS measured
# after 5 s of warm-up), each step checked exactly against PostgreSQL (--verify-db). It stops
# after the first step whose delivery p99 passes 100 ms (TM_BENCH_MAX_P99_MS) or that fails (a
# loss, a database problem, tm-load behind its schedule). The knee is the highest rate whose
# step stayed under it and passed.
# Per step: target and sent msg/s, deliveries/s, delivery p50/p95/p99/max, sends dropped late,
# CPU % per process (each instance, the nginx workers, tm-load), the CPU cost per 1,000 messages
# and per 100,000 deliveries, lost/dup/ooo, the database check, tm-load's exit status; and where
# the time goes: the write path's stages and the server-side delivery time from the instances'
# histograms (scraped before and after each step), and what PostgreSQL's active backends waited
# on (pg_stat_activity sampled every 50 ms).
# TM_BENCH_PERF=1: the knee's step once more with `perf record -g` on instance 1 over its
# measured window (started by tm-load's --fault-command at the window's start), and the top 15
# symbols of `perf report --no-children` in the section (that run's figures are not in the table:
# perf slows the instance it watches).
# Writes the section <!-- bench:knee --> of docs/BENCHMARKS.md (TM_BENCH_DOC) with the command,
# the machine, the date and the durability settings of the PostgreSQL that ran, and prints it.
#
# Environment: TM_BUILD_DIR (default build/), TM_SERVER_BIN / TM_LOAD_BIN (default the build's),
# TM_BENCH_USERS (1000), TM_BENCH_ROOM_SIZE (50), TM_BENCH_RATES, TM_BENCH_SECONDS (30),
# TM_BENCH_MAX_P99_MS (100), TM_BENCH_PERF (0), TM_BENCH_OUT (reports; default a new
# /tmp/tm-bench-knee.XXXXXX), TM_BENCH_DOC (docs/BENCHMARKS.md; "-" prints only), TM_PG_DURABLE
# (default 1: fsync, full_page_writes and synchronous_commit on; 0: the test suite's fast
# settings), TM_BENCH_REPORT_ONLY=1 (no runs: the section from the reports in TM_BENCH_OUT).
# Short try: TM_BENCH_RATES="250 500" TM_BENCH_SECONDS=10 TM_BENCH_DOC=- scripts/cluster/bench-knee.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

load=${TM_LOAD_BIN:-$build/tools/tm-load/tm-load}
export TM_SERVER_BIN=${TM_SERVER_BIN:-$build/server/taskmaster-server}
users=${TM_BENCH_USERS:-1000}
room_size=${TM_BENCH_ROOM_SIZE:-50}
read -r -a rates <<<"${TM_BENCH_RATES:-250 500 1000 1500 2000 3000 4000}"
seconds=${TM_BENCH_SECONDS:-30}
max_p99=${TM_BENCH_MAX_P99_MS:-100}
perf=${TM_BENCH_PERF:-0}
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}
# TM_BENCH_SECTION: the section's name (default knee), e.g. for a run of another server build
# (TM_SERVER_BIN) kept next to the main one; TM_BENCH_LABEL: a few words added to its heading.
section_name=${TM_BENCH_SECTION:-knee}
label=${TM_BENCH_LABEL:-}
section_note=""
[[ "$section_name" != knee ]] && section_note=" TM_BENCH_SECTION=$section_name TM_BENCH_LABEL=\"$label\""
server_note=""
[[ -n "${TM_SERVER_BIN:-}" && "$TM_SERVER_BIN" != "$build/server/taskmaster-server" ]] && server_note="TM_SERVER_BIN=<$label build> "
tm_bench_setup knee "$load" "$TM_SERVER_BIN"
out=$TM_BENCH_OUT
if ((tm_bench_runs)) && [[ -z "${TM_CLUSTER_DIR:-}" || ! -f "${TM_CLUSTER_DIR:-}/cluster.env" ]]; then
  if [[ "$perf" == 1 ]] && ! command -v perf >/dev/null; then
    echo "bench-knee: TM_BENCH_PERF=1 needs perf (linux-perf)" >&2
    exit 2
  fi
  unset TM_CLUSTER_DIR
  export TM_CLUSTER_INSTANCES=3
  # Rooms are created through the API while seeding: no per-user API limit.
  export TM_CLUSTER_SERVER_ARGS=${TM_CLUSTER_SERVER_ARGS:---rate-api 0}
  # The section is written after the cluster has stopped (below), so that nothing else runs then.
  rc=0
  TM_BENCH_KNEE_INNER=1 "$here/with-cluster.sh" "$0" "$@" || rc=$?
  # A step's failure is a figure (its exit column); a failure here is the cluster's or the
  # script's: no section then (it would replace the last good one).
  if [[ $rc != 0 ]]; then
    echo "bench-knee: the runs ended with status $rc (reports in $out)" >&2
    exit "$rc"
  fi
  TM_BENCH_REPORT_ONLY=1 exec "$0" "$@"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- the steps (inside the cluster) ----------------------------------------------------------------
# step NAME RATE [tm-load arguments...]: one tm-load run into $out/NAME.json; its exit status in
# NAME.rc.
step() {
  local name=$1 rate=$2 rc=0 pids
  shift 2
  set -a
  # shellcheck disable=SC1091
  source "$TM_CLUSTER_DIR/cluster.env"
  set +a
  mapfile -t pids < <(tm_bench_pid_args)
  echo "bench-knee: $name: $users users in rooms of $room_size at $rate msg/s for $seconds s" >&2
  tm_bench_metrics_scrape "$out/$name.metrics-before"
  tm_bench_pg_waits_start "$TM_DATABASE_URL" "$out/$name.pg-waits"
  "$load" --url "$TM_CLUSTER_URL" --seed-db "$TM_DATABASE_URL" --verify-db "$TM_DATABASE_URL" \
    --tokens "$out/tokens.json" --json "$out/$name.json" --users "$users" --room-size "$room_size" \
    --rate "$rate" --duration "$seconds" --warmup 5 --threads 2 --connect-timeout 120 --drain 60 \
    --max-run 1200 --quiet "${pids[@]}" "$@" >"$out/$name.txt" 2>"$out/$name.err" || rc=$?
  echo "$rc" >"$out/$name.rc"
  tm_bench_pg_waits_stop
  tm_bench_metrics_scrape "$out/$name.metrics-after"
  echo "bench-knee: $name: exit $rc, delivery p99 $(jq -r '.latencyMs.delivery.p99' "$out/$name.json" 2>/dev/null || echo ?) ms" >&2
}

if ((tm_bench_runs)); then
  for s in fsync full_page_writes synchronous_commit; do
    printf "%s=%s " "$s" "$(psql -XAtq "$TM_DATABASE_URL" -c "SHOW $s" 2>/dev/null)"
  done | sed "s/ *$//" >"$out/pg"
  : >"$out/steps"
  knee=""
  for r in "${rates[@]}"; do
    step "rate-$r" "$r"
    echo "$r" >>"$out/steps"
    p99=$(jq -r '.latencyMs.delivery.p99' "$out/rate-$r.json" 2>/dev/null || echo 1e9)
    if [[ "$(cat "$out/rate-$r.rc")" != 0 ]] || awk -v p="$p99" -v m="$max_p99" 'BEGIN { exit !(p > m) }'; then
      break
    fi
    knee=$r
  done
  if [[ "$perf" == 1 && -n "$knee" ]]; then
    # perf on instance 1 over the measured window: tm-load starts it 5 s into the sending (the end
    # of the warm-up) and sends on until it has ended.
    # shellcheck disable=SC1091
    source "$TM_CLUSTER_DIR/cluster.env"
    perf_cmd="perf record -g -p $TM_INSTANCE_1_PID -o '$out/perf.data' -- sleep $seconds >'$out/perf-record.log' 2>&1"
    step "perf-$knee" "$knee" --fault-command "$perf_cmd" --fault-at 5 --fault-tail 0
    perf report -i "$out/perf.data" --no-children --stdio 2>/dev/null \
      | grep -E '^ +[0-9]+\.[0-9]+%' | head -n 15 >"$out/perf-top.txt" || true
  fi
  # Started by ourselves: the section comes after the cluster has stopped. In a cluster of the
  # caller's (TM_CLUSTER_DIR): now.
  [[ "${TM_BENCH_KNEE_INNER:-0}" == 1 ]] && exit 0
fi

# ---- the section (after the cluster stopped) ---------------------------------------------------------
steps=()
[[ -f "$out/steps" ]] && mapfile -t steps <"$out/steps"
pg=$(cat "$out/pg" 2>/dev/null || true)
knee=""
first_over=""
for r in "${steps[@]}"; do
  j=$out/rate-$r.json
  [[ -f $j ]] || continue
  p99=$(jq -r '.latencyMs.delivery.p99' "$j")
  if [[ "$(cat "$out/rate-$r.rc")" == 0 ]] && awk -v p="$p99" -v m="$max_p99" 'BEGIN { exit !(p <= m) }'; then
    knee=$r
  else
    first_over=$r
    break
  fi
done
table=$(
  echo "| target msg/s | sent msg/s | deliveries/s | delivery p50 ms | p95 | p99 | max | dropped late | CPU %: instances / nginx / tm-load | $TM_BENCH_COST_HEADERS | lost/dup/ooo | db check | exit |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for r in "${steps[@]}"; do
    j=$out/rate-$r.json
    [[ -f $j ]] || continue
    jq -r --arg rc "$(cat "$out/rate-$r.rc")" "$TM_BENCH_JQ_COST"'
      def ms: . * 10 | round / 10;
      def pct: map((.loadCpuPercent // 0) | round | tostring) | join(" + ");
      . as $r
      | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
      | $r.latencyMs.delivery as $d
      | ([$r.proxies[]? | .loadCpuPercent // 0] | add // 0 | round) as $ngx
      | "| \($r.config.rate) | \($r.messages.measuredRate | round) | \(($r.cost.windowDelivered // 0) / $r.config.durationSeconds | round) | \($d.p50 | ms) | \($d.p95 | ms) | \($d.p99 | ms) | \($d.max | ms) | \($r.messages.lateDropped // 0) | \($r.servers | pct) / \($ngx) / \($r.self.loadCpuPercent // 0 | round) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($r.events.lost)/\($r.events.duplicated)/\($r.events.outOfOrder) | \($db) | \($rc) |"
    ' "$j"
  done
)
# Where the time goes per step: the write path's stages and the server-side delivery time of the
# instances' histograms, and what PostgreSQL's active backends waited on.
stages=$(
  echo "| target msg/s | queue p50 / p95 / p99 ms | pool wait | database (BEGIN to COMMIT) | return to the network thread | cache bump | server-side delivery | PostgreSQL active backends: lock wait % / WAL % / CPU % / other % (samples) |"
  echo "|---|---|---|---|---|---|---|---|"
  for r in "${steps[@]}"; do
    [[ -f $out/rate-$r.metrics-after ]] || continue
    declare -A q=()
    while read -r k p50 p95 p99 _; do q[$k]="$p50 / $p95 / $p99"; done \
      < <(tm_bench_stage_quantiles "$out/rate-$r.metrics-before" "$out/rate-$r.metrics-after")
    read -r lock wal cpu other samples < <(tm_bench_pg_waits_summary "$out/rate-$r.pg-waits")
    echo "| $r | ${q[queue]:--} | ${q[pool_wait]:--} | ${q[database]:--} | ${q[return]:--} | ${q[cache]:--} | ${q[delivery]:--} | $lock / $wal / $cpu / $other ($samples) |"
    unset q
  done
)

if [[ -n "$knee" ]]; then
  verdict="Knee: **$knee msg/s** ($((knee * room_size)) deliveries/s planned), the highest step with delivery p99 at or under $max_p99 ms and a clean run"
  if [[ -n "$first_over" ]]; then
    verdict+="; the next step, $first_over msg/s, $(jq -r --arg m "$max_p99" --arg rc "$(cat "$out/rate-$first_over.rc")" '
      if (.latencyMs.delivery.p99 > ($m | tonumber)) then "had p99 \(.latencyMs.delivery.p99 * 10 | round / 10) ms" else "failed (exit \($rc): \(.result.failures | join("; ")))" end' "$out/rate-$first_over.json")."
  else
    verdict+="; every step stayed under it: the knee is at or above the top rate."
  fi
elif [[ -n "$first_over" ]]; then
  verdict="No knee: already the first step, $first_over msg/s, passed $max_p99 ms or failed."
else
  verdict="No step ran."
fi
perf_text=""
if [[ -s "$out/perf-top.txt" ]]; then
  perf_p99=$(jq -r '.latencyMs.delivery.p99 * 10 | round / 10' "$out/perf-$knee.json" 2>/dev/null || echo "?")
  perf_text=$(
    echo
    echo "Profile of instance 1 at the knee ($knee msg/s, run again with \`perf record -g\` attached over the"
    echo "measured window; that run's delivery p99 $perf_p99 ms), \`perf report --no-children --stdio\`, top 15:"
    echo
    echo '```'
    cat "$out/perf-top.txt"
    echo '```'
  )
fi

section=$(
  echo "<!-- bench:$section_name -->"
  echo "### Knee: the highest send rate under $max_p99 ms delivery p99 (3 instances behind nginx)${label:+: $label}"
  echo
  echo "Written by \`scripts/cluster/bench-knee.sh\` on $(date -u +%Y-%m-%d) ($(tm_bench_machine)):"
  echo "$users users in rooms of $room_size ($room_size deliveries per message, the sender's own included) over 3"
  echo "instances, tm-load through nginx, one run per step at a rising rate, $seconds s measured after 5 s of"
  echo "warm-up, all steps on one cluster (the users and rooms seeded once), each step checked exactly"
  echo "against PostgreSQL afterwards; the steps stop after the first whose delivery p99 passes $max_p99 ms or"
  echo "that fails. PostgreSQL: ${pg:-settings not read}. Latency from each message's scheduled send time;"
  echo "\"dropped late\": sends tm-load could not make within 250 ms of their time (over 1 % fails the run)."
  echo "CPU % per process over the measured window (100 = one core; instances each, nginx workers"
  echo "together). $TM_BENCH_COST_NOTE Everything, tm-load and nginx included, shares the machine's cores."
  echo
  echo '```'
  echo "${server_note}TM_BENCH_USERS=$users TM_BENCH_RATES=\"${rates[*]}\" TM_BENCH_SECONDS=$seconds$([[ $perf == 1 ]] && echo " TM_BENCH_PERF=1")${section_note} scripts/cluster/bench-knee.sh"
  echo '```'
  echo
  echo "$table"
  echo
  echo "$verdict"
  echo
  echo "Where the time goes, per step over the whole run (warm-up included), the three instances'"
  echo "histograms together (\`group_commit_stage_ms\`, \`message_delivery_time_ms\`: each quantile is the"
  echo "upper bound of its bucket, 0.25 0.5 1 2 5 10 25 50 100 ... ms): a write waits in its"
  echo "instance's queue for the batch in flight, for a database worker, on the database from BEGIN to"
  echo "COMMIT, for the network thread to take the result back and for the cache's version bump; the"
  echo "server-side delivery runs from the send frame's arrival to the write to its last local"
  echo "recipient. PostgreSQL: \`pg_stat_activity\` sampled every 50 ms during each run, the share of"
  echo "active client backends waiting on a lock (\`Lock:*\`: another transaction's row lock), on the"
  echo "WAL (\`IO:WAL*\`, \`LWLock:WAL*\`), running (no wait event) or other."
  echo
  echo "$stages"
  echo "$perf_text"
  echo "<!-- /bench:$section_name -->"
)
echo "$section"
echo "bench-knee: reports in $out" >&2
if [[ "$doc" != "-" ]]; then
  tm_bench_write_section "$doc" "$section_name" "$section"
  echo "bench-knee: wrote the knee section of $doc" >&2
fi
