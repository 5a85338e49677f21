#!/usr/bin/env bash
# bench-soak.sh: the "Soak" scenario of issue 18: the spec's sustained run at the goal load. On a
# fresh loopback cluster (cluster.sh: durable PostgreSQL, Redis, 3 instances, nginx) tm-load
# through nginx drives TM_BENCH_USERS users (default 10,000) in rooms of 10 at TM_BENCH_RATE msg/s
# (1,000) for TM_BENCH_MINUTES minutes (30), then checks every stream exactly against PostgreSQL
# (--verify-db). tm-load summarises each minute (--period-seconds 60): each instance's RSS and
# open file descriptors at the minute's end, the delivery p50/p99 of the deliveries received in
# it, messages sent and acknowledged. After the warm-up (the first TM_BENCH_WARMUP_MINUTES, default
# 5) the least-squares slope per minute of each instance's RSS (MB/min) and descriptors (fds/min)
# and of the p99 (ms/min) is printed against a stated bound: "no growth" when |slope| is within it
# (TM_BENCH_RSS_SLOPE_MB 0.5, TM_BENCH_FD_SLOPE 0.5, TM_BENCH_P99_SLOPE_MS 0.5); "GROWTH" above it,
# "falls" below its negative.
# Writes the section <!-- bench:soak --> of docs/BENCHMARKS.md (TM_BENCH_DOC) with the command,
# the machine, the date and the durability settings of the PostgreSQL that ran, and prints it.
#
# Environment: TM_BUILD_DIR (default build/), TM_SERVER_BIN / TM_LOAD_BIN (default the build's),
# TM_BENCH_USERS (10000), TM_BENCH_RATE (1000), TM_BENCH_MINUTES (30), TM_BENCH_WARMUP_MINUTES (5),
# the three bounds above, TM_BENCH_OUT (reports; default a new /tmp/tm-bench-soak.XXXXXX),
# TM_BENCH_DOC (docs/BENCHMARKS.md; "-" prints only), TM_PG_DURABLE (default 1: fsync,
# full_page_writes and synchronous_commit on; 0: the test suite's fast settings),
# TM_BENCH_REPORT_ONLY=1 (no run: the section from the report in TM_BENCH_OUT).
# Short try: TM_BENCH_USERS=2000 TM_BENCH_RATE=200 TM_BENCH_MINUTES=2 TM_BENCH_WARMUP_MINUTES=0 TM_BENCH_DOC=- scripts/cluster/bench-soak.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

load=${TM_LOAD_BIN:-$build/tools/tm-load/tm-load}
export TM_SERVER_BIN=${TM_SERVER_BIN:-$build/server/taskmaster-server}
users=${TM_BENCH_USERS:-10000}
rate=${TM_BENCH_RATE:-1000}
minutes=${TM_BENCH_MINUTES:-30}
warmup=${TM_BENCH_WARMUP_MINUTES:-5}
rss_bound=${TM_BENCH_RSS_SLOPE_MB:-0.5}
fd_bound=${TM_BENCH_FD_SLOPE:-0.5}
p99_bound=${TM_BENCH_P99_SLOPE_MS:-0.5}
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}
tm_bench_setup soak "$load" "$TM_SERVER_BIN"
out=$TM_BENCH_OUT
if ((tm_bench_runs)) && [[ -z "${TM_CLUSTER_DIR:-}" || ! -f "${TM_CLUSTER_DIR:-}/cluster.env" ]]; then
  unset TM_CLUSTER_DIR
  export TM_CLUSTER_INSTANCES=3
  # 10,000 proxied WebSockets take 20,000 of nginx's connections.
  export TM_CLUSTER_NGINX_CONNECTIONS=${TM_CLUSTER_NGINX_CONNECTIONS:-16384}
  export TM_CLUSTER_SERVER_ARGS=${TM_CLUSTER_SERVER_ARGS:---rate-api 0}
  # The section is written after the cluster has stopped (below).
  rc=0
  TM_BENCH_SOAK_INNER=1 "$here/with-cluster.sh" "$0" "$@" || rc=$?
  # tm-load's failure is a figure (the exit column); a failure here is the cluster's or the
  # script's: no section then (it would replace the last good one).
  if [[ $rc != 0 ]]; then
    echo "bench-soak: the run ended with status $rc (reports in $out)" >&2
    exit "$rc"
  fi
  TM_BENCH_REPORT_ONLY=1 exec "$0" "$@"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- the run (inside the cluster) ------------------------------------------------------------------
if ((tm_bench_runs)); then
  for s in fsync full_page_writes synchronous_commit; do
    printf "%s=%s " "$s" "$(psql -XAtq "$TM_DATABASE_URL" -c "SHOW $s" 2>/dev/null)"
  done | sed "s/ *$//" >"$out/pg"
  mapfile -t pids < <(tm_bench_pid_args)
  echo "bench-soak: $users users in rooms of 10 at $rate msg/s for $minutes min" >&2
  rc=0
  "$load" --url "$TM_CLUSTER_URL" --seed-db "$TM_DATABASE_URL" --verify-db "$TM_DATABASE_URL" \
    --json "$out/soak.json" --users "$users" --room-size 10 --rate "$rate" --duration "$((minutes * 60))" \
    --warmup 0 --period-seconds 60 --threads 2 --connect-timeout 300 --drain 60 \
    --max-run "$((minutes * 60 + 1200))" --max-late-pct 1 --quiet "${pids[@]}" \
    >"$out/soak.txt" 2>"$out/soak.err" || rc=$?
  echo "$rc" >"$out/soak.rc"
  echo "bench-soak: exit $rc" >&2
  [[ "${TM_BENCH_SOAK_INNER:-0}" == 1 ]] && exit 0
fi

# ---- the section (after the cluster stopped) ---------------------------------------------------------
j=$out/soak.json
[[ -f $j ]] || {
  echo "bench-soak: no report $j" >&2
  exit 1
}
rc=$(cat "$out/soak.rc" 2>/dev/null || echo "?")
pg=$(cat "$out/pg" 2>/dev/null || true)
minute_table=$(
  echo "| minute | RSS MB: tm-1 / tm-2 / tm-3 | open fds: tm-1 / tm-2 / tm-3 | delivery p50 ms | p99 | max | sent | acked | delivered |"
  echo "|---|---|---|---|---|---|---|---|---|"
  jq -r '
    def ms: . * 10 | round / 10;
    .periods[]
    | "| \(.to / 60 | round) | \([.servers[] | .rssBytes / 1048576 * 10 | round / 10 | tostring] | join(" / ")) | \([.servers[] | .openFds | tostring] | join(" / ")) | \(.delivery.p50 | ms) | \(.delivery.p99 | ms) | \(.delivery.max | ms) | \(.sent) | \(.acked) | \(.delivered) |"
  ' "$j"
)
# Least-squares slopes over the minutes after the warm-up: x the minute (the period's end), y the
# figure; "no growth" when |slope| <= its bound.
slopes=$(jq -r --argjson w "$warmup" --argjson rb "$rss_bound" --argjson fb "$fd_bound" --argjson pb "$p99_bound" '
  def slope(xs; ys):
    (xs | length) as $n
    | if $n < 2 then null
      else (xs | add / $n) as $mx | (ys | add / $n) as $my
        | ([range($n) | (xs[.] - $mx) * (ys[.] - $my)] | add) as $sxy
        | ([range($n) | (xs[.] - $mx) * (xs[.] - $mx)] | add) as $sxx
        | if $sxx == 0 then null else $sxy / $sxx end
      end;
  def verdict(s; b; unit):
    if s == null then "too few minutes after the warm-up for a slope"
    else "\(s * 1000 | round / 1000) \(unit) (bound ±\(b)): \(if (s | fabs) <= b then "no growth" elif s > 0 then "GROWTH" else "falls (beyond the bound, not growth)" end)" end;
  [.periods[] | select(.to / 60 > $w + 0.01)] as $p
  | [$p[] | .to / 60] as $x
  | ($p[0].servers // [] | length) as $k
  | ([range($k) | . as $i | "- tm-\($i + 1) RSS: \(verdict(slope($x; [$p[] | .servers[$i].rssBytes / 1048576]); $rb; "MB/min"))"] | .[]),
    ([range($k) | . as $i | "- tm-\($i + 1) open fds: \(verdict(slope($x; [$p[] | .servers[$i].openFds]); $fb; "fds/min"))"] | .[]),
    "- delivery p99: \(verdict(slope($x; [$p[] | .delivery.p99]); $pb; "ms/min"))",
    "- (\($p | length) minutes after the warm-up of \($w))"
' "$j")
summary=$(jq -r --arg rc "$rc" "$TM_BENCH_JQ_COST"'
  def ms: . * 10 | round / 10;
  . as $r
  | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, \(.acked) acks = \(.stored) stored, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
  | "| \($r.connections.connected) / \($r.config.users) | \($r.messages.measuredRate | round) | \($r.messages.sent) / \($r.messages.acked) / \($r.messages.lateDropped // 0) | \($r.latencyMs.delivery.p50 | ms) | \($r.latencyMs.delivery.p99 | ms) | \($r.latencyMs.delivery.max | ms) | \($r.connections.disconnects) | \([$r.servers[] | (.loadCpuPercent // 0) | round | tostring] | join(" + ")) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($r.events.lost)/\($r.events.duplicated)/\($r.events.outOfOrder) | \($db) | \($rc) |"
' "$j")

section=$(
  echo "<!-- bench:soak -->"
  echo "### Soak: $minutes minutes at $rate msg/s, $users users (3 instances behind nginx)"
  echo
  echo "Written by \`scripts/cluster/bench-soak.sh\` on $(date -u +%Y-%m-%d) ($(tm_bench_machine)):"
  echo "$users users in rooms of 10 over 3 instances, tm-load through nginx at $rate msg/s for $minutes minutes,"
  echo "then every stream and every send checked against PostgreSQL. PostgreSQL: ${pg:-settings not read}."
  echo "Per minute (tm-load's periods): each instance's RSS and open descriptors at the minute's end, the"
  echo "delivery latency of the deliveries received in that minute (from the scheduled send time),"
  echo "messages sent, acknowledged and delivered in it. Slopes: least squares over the minutes after the"
  echo "first $warmup (warm-up); \"no growth\" means |slope| within the bound. $TM_BENCH_COST_NOTE"
  echo
  echo '```'
  echo "TM_BENCH_USERS=$users TM_BENCH_RATE=$rate TM_BENCH_MINUTES=$minutes TM_BENCH_WARMUP_MINUTES=$warmup scripts/cluster/bench-soak.sh"
  echo '```'
  echo
  echo "| connected / users | sent msg/s | sent / acked / dropped late | delivery p50 ms | p99 | max | disconnects | instances CPU % | $TM_BENCH_COST_HEADERS | lost/dup/ooo | db check | exit |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  echo "$summary"
  echo
  echo "Slopes after the warm-up:"
  echo
  echo "$slopes"
  echo
  echo "$minute_table"
  echo "<!-- /bench:soak -->"
)
echo "$section"
echo "bench-soak: reports in $out" >&2
if [[ "$doc" != "-" ]]; then
  tm_bench_write_section "$doc" soak "$section"
  echo "bench-soak: wrote the soak section of $doc" >&2
fi
