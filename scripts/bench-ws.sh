#!/usr/bin/env bash
# bench-ws.sh: the real-time hub under tm-load, on one taskmaster-server instance, on SQLite and on
# PostgreSQL. For each back end it starts the server, seeds TM_BENCH_USERS users once (a tokens
# file; Argon2id makes this the slowest step) and measures:
#   1. fan-out latency p50/p95/p99 for rooms of 10, 100 and 1,000 members at the same message rate;
#   2. sustained sends per second in rooms of 10: the rate steps up until the delivery p99 passes
#      50 ms (or a message is lost, or the achieved rate falls 10 % short);
#   3. group commit off and on (--group-commit 0|1, fresh server each) at the same load;
#   4. server RSS per idle connection (TM_BENCH_IDLE connections saying only hello, fresh server).
# Prints the tables and writes them to docs/BENCHMARKS.md (section bench:ws). tm-load runs on the
# same cores as the server: every figure includes its CPU, shown next to the server's.
# Environment: TM_BUILD_DIR, TM_JOBS (build jobs), TM_BENCH_USERS (default 1000),
# TM_BENCH_SECONDS (measured seconds per run, default 5), TM_BENCH_FANOUT_RATE (msg/s, default 20),
# TM_BENCH_RATES (steps, default "50 100 200 400 800 1600 3200"), TM_BENCH_IDLE (default 2000),
# TM_BENCH_BACKENDS (default "sqlite postgres"), TM_BENCH_WRAPPER (see start_server), TM_BENCH_NO_BUILD=1 (use the binaries in TM_BUILD_DIR as
# they are).
# A/B mode: TM_BENCH_BASELINE=/path/to/an/older/taskmaster-server compares that binary with the
# one of this tree in one sitting instead of the full run: TM_BENCH_ROUNDS rounds (default 4)
# alternate the two servers (ABBA order), each running the fan-out in rooms of 10 and of 100
# at TM_BENCH_FANOUT_RATE and sustained sends at TM_BENCH_AB_RATE msg/s (default 400) in rooms of
# 10, with the same tm-load; prints and writes the medians of the rounds (section bench:ws-ab).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=bench-lib.sh
source "$root/scripts/bench-lib.sh"
# shellcheck source=services.sh
source "$root/scripts/services.sh"
users=${TM_BENCH_USERS:-1000}
seconds=${TM_BENCH_SECONDS:-5}
fanout_rate=${TM_BENCH_FANOUT_RATE:-20}
read -r -a rates <<<"${TM_BENCH_RATES:-50 100 200 400 800 1600 3200}"
idle=${TM_BENCH_IDLE:-2000}
read -r -a backends <<<"${TM_BENCH_BACKENDS:-sqlite postgres}"

if [[ "${TM_BENCH_NO_BUILD:-}" != 1 ]]; then
  log=$(mktemp)
  gen=()
  if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
  if ! { "$root/scripts/setup.sh" \
    && cmake -S "$root" -B "$build" "${gen[@]}" -DTM_WERROR="${TM_WERROR:-ON}" -DTM_BUILD_SERVER=ON \
    && cmake --build "$build" -j"${TM_JOBS:-2}" --target taskmaster-server tm-load; } >"$log" 2>&1; then
    echo "bench-ws: set-up or build failed:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi
server_bin="$build/server/taskmaster-server"
load_bin="$build/tools/tm-load/tm-load"
baseline_bin=${TM_BENCH_BASELINE:-}
if [[ -n "$baseline_bin" && ! -x "$baseline_bin" ]]; then
  echo "bench-ws: TM_BENCH_BASELINE=$baseline_bin is not an executable" >&2
  exit 1
fi

# Thousands of sockets: the server and tm-load need the hard limit of open files.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < idle + 200)); then
  echo "bench-ws: the open-file limit $(ulimit -n) is too low for $idle idle connections" >&2
  exit 1
fi

work=$(mktemp -d /tmp/tm-bench-ws.XXXXXX)
chmod 755 "$work"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  tm_pg_stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

start_server() { # backend [server options...]; sets server_pid, base
  local backend=$1 attempt port
  shift
  local extra=()
  [[ $backend == postgres ]] && extra=(--database-url "$TM_PG_URL")
  # A free port can be taken by someone else before the server binds it: try another one.
  for attempt in 1 2 3 4 5; do
    port=$(tm_free_port)
    # TM_BENCH_WRAPPER runs the server under a tool, e.g. "gdb -q -batch -ex run -ex bt --args" (the
    # RSS and CPU columns then show the tool's process).
    # tm-load opens every connection from 127.0.0.1: no per-address cap (an environment variable,
    # which an older baseline binary ignores, rather than an option it would refuse).
    TM_MAX_CONNECTIONS_PER_ADDRESS=0 ${TM_BENCH_WRAPPER:-} "$server_bin" --listen "127.0.0.1:$port" --data-dir "$work/data-$backend" --rate-auth 0 --rate-api 0 "${extra[@]}" "$@" \
      >>"$work/server-$backend.log" 2>&1 &
    server_pid=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 100); do
      curl -sf "$base/health" >/dev/null && return 0
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    grep -q "already in use" "$work/server-$backend.log" || break
    echo "bench-ws: port $port was taken (attempt $attempt), trying another" >&2
    : >"$work/server-$backend.log"
  done
  echo "bench-ws: the server did not start; its log:" >&2
  tail -n 40 "$work/server-$backend.log" >&2
  exit 1
}

stop_server() {
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "bench-ws: the server died; its log:" >&2
    tail -n 40 "$work/server-$backend.log" >&2
    exit 1
  fi
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

metric() { # name: the value of an unlabelled metric of the running server
  curl -sf "$base/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# tmload NAME [tm-load options...]: one run; its RESULT line is left in $result. A missed
# threshold (exit 1) is a finding, not an error; anything else stops the benchmark.
tmload() {
  local name=$1 status=0
  shift
  "$load_bin" --url "$base" --tokens "$work/tokens-$backend.json" --server-pid "$server_pid" --threads 2 \
    --quiet --result-line --json "$work/$backend-$name.json" "$@" >"$work/$backend-$name.txt" 2>"$work/$backend-$name.err" \
    || status=$?
  if ((status > 1)); then
    echo "bench-ws: tm-load $name failed (exit $status):" >&2
    cat "$work/$backend-$name.txt" "$work/$backend-$name.err" >&2
    exit 1
  fi
  result=$(grep '^RESULT ' "$work/$backend-$name.txt")
  if ((status == 1)); then
    echo "  tm-load $name missed a threshold:" >&2
    grep -E '^(lost|result) ' "$work/$backend-$name.txt" | sed 's/^/    /' >&2
  fi
}

val() { # key: a field of $result
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"
}

# ---- A/B mode ------------------------------------------------------------------------------
if [[ -n "$baseline_bin" ]]; then
  rounds=${TM_BENCH_ROUNDS:-4}
  ab_rate=${TM_BENCH_AB_RATE:-400}
  current_bin=$server_bin
  load_start=$(cut -d' ' -f1 /proc/loadavg)
  ab_file="$work/ab.txt" # backend build scenario p50 p99 serverCpu, one line per run
  for backend in "${backends[@]}"; do
    if [[ $backend == postgres ]]; then
      tm_pg_start "$work/pg"
    fi
    echo "bench-ws: A/B on $backend"
    for round in $(seq "$rounds"); do
      # ABBA: odd rounds run the baseline first, even rounds the current build, so neither always
      # meets a warmer database or page cache.
      order="baseline current"
      ((round % 2 == 0)) && order="current baseline"
      for build_name in $order; do
        server_bin=$baseline_bin
        [[ $build_name == current ]] && server_bin=$current_bin
        start_server "$backend"
        for size in 10 100; do
          tmload "ab-$build_name-$round-fanout-$size" --users "$users" --room-size "$size" --rate "$fanout_rate" \
            --duration "$seconds" --warmup 2
          echo "$backend $build_name fanout-$size $(val p50) $(val p99) $(val serverCpu)" >>"$ab_file"
          echo "  round $round $build_name fan-out $size: $result"
        done
        tmload "ab-$build_name-$round-rate" --users "$users" --room-size 10 --rate "$ab_rate" --duration "$seconds" \
          --warmup 1 --drain 30
        echo "$backend $build_name rate-$ab_rate $(val p50) $(val p99) $(val serverCpu)" >>"$ab_file"
        echo "  round $round $build_name rate $ab_rate: $result"
        stop_server
      done
    done
    if [[ $backend == postgres ]]; then
      tm_pg_stop "$work/pg"
    fi
  done
  load_end=$(cut -d' ' -f1 /proc/loadavg)
  # Median of the rounds per (backend, scenario, build); the ratio current / baseline.
  ab_rows=$(awk '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { k = $1 SUBSEP $3; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      p50[k, $2] = p50[k, $2] " " $4; p99[k, $2] = p99[k, $2] " " $5; cpu[k, $2] = cpu[k, $2] " " $6 }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; split(k, f, SUBSEP)
        b50 = median(p50[k, "baseline"]); c50 = median(p50[k, "current"])
        b99 = median(p99[k, "baseline"]); c99 = median(p99[k, "current"])
        bc = median(cpu[k, "baseline"]); cc = median(cpu[k, "current"])
        printf "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f |\n", f[1], f[2], b50, c50, b99, c99, \
          (b99 > 0 ? c99 / b99 : 0), bc, cc
      }
    }' "$ab_file")
  ab_table="| back end | scenario | baseline p50 ms | current p50 ms | baseline p99 ms | current p99 ms | p99 current/baseline | baseline server CPU % | current server CPU % |
|---|---|---|---|---|---|---|---|---|
$ab_rows"
  printf '%s\n' "$ab_table"
  section="<!-- bench:ws-ab -->
### Before and after a change of the server, in one sitting

Command: \`TM_BENCH_BASELINE=$baseline_bin TM_BENCH_ROUNDS=$rounds TM_BENCH_USERS=$users TM_BENCH_SECONDS=$seconds TM_BENCH_FANOUT_RATE=$fanout_rate TM_BENCH_AB_RATE=$ab_rate scripts/bench-ws.sh\`
(baseline: ${TM_BENCH_BASELINE_LABEL:-$baseline_bin}; current: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "this tree")).
Machine: $(tm_bench_machine); 1-minute load average $load_start at the start, $load_end at the end.
Date: $(date -u +%Y-%m-%d). The two servers alternate in ABBA order over $rounds rounds; each cell is
the median of the rounds (p99 of a 20 msg/s fan-out run rests on few samples: read it with the
spread of the rounds, printed by the script). Same tm-load for both; $users users; fan-out at $fanout_rate msg/s in rooms
of 10 and 100 (every room busy), sustained sends at $ab_rate msg/s in rooms of 10. Latency is send to
receive (delivery) on tm-load's clock. Durability: SQLite as the server opens it (WAL,
synchronous=NORMAL); PostgreSQL as scripts/services.sh starts it (fsync, synchronous_commit and
full_page_writes $([[ "${TM_PG_DURABLE:-1}" == 0 ]] && echo off || echo on)), the same for both builds.

$ab_table
<!-- /bench:ws-ab -->"
  tm_bench_write_section "$root/docs/BENCHMARKS.md" ws-ab "$section"
  exit 0
fi

load_start=$(cut -d' ' -f1 /proc/loadavg)
fanout_rows=""
rate_rows=""
best_rows=""
gc_rows=""
idle_rows=""
seed_note=""
for backend in "${backends[@]}"; do
  if [[ $backend == postgres ]]; then
    tm_pg_start "$work/pg"
  fi
  echo "bench-ws: $backend"
  start_server "$backend"

  # 1. Fan-out (the first run also seeds the users).
  seed_start=$SECONDS
  for size in 10 100 1000; do
    tmload "fanout-$size" --users "$users" --room-size "$size" --rate "$fanout_rate" --duration "$seconds" --warmup 2
    if [[ $size == 10 ]]; then
      seed_note+="$backend: seeding $users users and the first run took $((SECONDS - seed_start)) s. "
    fi
    members=$((size < users ? size : users))
    fanout_rows+="| $backend | $members | $fanout_rate | $((fanout_rate * (members - 1))) | $(val p50) | $(val p95) | $(val p99) | $(val max) | $(val lost)/$(val dup)/$(val ooo) | $(val serverCpu) | $(val loadCpu) |"$'\n'
    echo "  fan-out, rooms of $size: $result"
  done

  # 2. Sustained sends per second in rooms of 10: step up until the server no longer keeps up (the
  # schedule is open-loop, so a server that falls behind shows as a growing backlog: p99 over
  # 250 ms, the achieved rate 10 % short, or a message lost); the highest step whose p99 stays
  # within 50 ms is the headline, the highest one that kept up carries the group commit test.
  best=0
  within=1 # every step so far kept its p99 within 50 ms
  unsaturated=0
  for rate in "${rates[@]}"; do
    # A long drain: a saturated step must not count its backlog as lost.
    tmload "rate-$rate" --users "$users" --room-size 10 --rate "$rate" --duration "$seconds" --warmup 1 --drain 30
    achieved=$(val rate)
    rate_rows+="| $backend | $rate | $achieved | $(val ackP50) | $(val ackP99) | $(val p50) | $(val p95) | $(val p99) | $(val lost) | $(val rateLimited) | $(val serverCpu) | $(val loadCpu) |"$'\n'
    echo "  rate $rate: $result"
    if ! awk -v p99="$(val p99)" -v a="$achieved" -v r="$rate" -v lost="$(val lost)" \
      'BEGIN { exit !(p99 <= 250 && a >= 0.9 * r && lost == 0) }'; then
      break
    fi
    unsaturated=$rate
    if ((within)) && awk -v p99="$(val p99)" 'BEGIN { exit !(p99 <= 50) }'; then
      best=$rate
    else
      within=0
    fi
  done
  best_rows+="| $backend | $best | $unsaturated |"$'\n'
  stop_server

  # 3. Group commit off, then on, at the same load (the highest unsaturated step above).
  gc_rate=$unsaturated
  ((gc_rate > 0)) || gc_rate=${rates[0]}
  for gc in 0 1; do
    start_server "$backend" --group-commit "$gc"
    batches0=$(metric group_commit_batches_total)
    writes0=$(metric messages_written_total)
    tmload "gc-$gc" --users "$users" --room-size 10 --rate "$gc_rate" --duration "$seconds" --warmup 1 --drain 30
    batches=$(awk -v a="$(metric group_commit_batches_total)" -v b="$batches0" 'BEGIN { print a - b }')
    writes=$(awk -v a="$(metric messages_written_total)" -v b="$writes0" 'BEGIN { print a - b }')
    per_batch=$(awk -v w="$writes" -v b="$batches" 'BEGIN { if (b > 0) printf "%.1f", w / b; else print "-" }')
    gc_rows+="| $backend | $gc | $gc_rate | $(val rate) | $per_batch | $(val ackP50) | $(val ackP99) | $(val p50) | $(val p99) | $(val serverCpu) |"$'\n'
    echo "  group commit $gc at $gc_rate msg/s: $result (writes per batch $per_batch)"
    stop_server
  done

  # 4. Idle connections on a fresh server.
  start_server "$backend"
  tmload idle --users "$users" --idle "$idle" --duration "$seconds"
  idle_rows+="| $backend | $(val connected) | $(awk -v k="$(val serverRssStartKb)" 'BEGIN { printf "%.1f", k / 1024 }') | $(awk -v k="$(val serverRssEndKb)" 'BEGIN { printf "%.1f", k / 1024 }') | $(val kbPerConn) |"$'\n'
  echo "  idle: $result"
  stop_server
  if [[ $backend == postgres ]]; then
    tm_pg_stop "$work/pg"
  fi
done

load_end=$(cut -d' ' -f1 /proc/loadavg)
fanout_table="| back end | room size | msg/s | deliveries/s | p50 ms | p95 ms | p99 ms | max ms | lost/dup/out of order | server CPU % | tm-load CPU % |
|---|---|---|---|---|---|---|---|---|---|---|
${fanout_rows%$'\n'}"
rate_table="| back end | target msg/s | achieved msg/s | ack p50 ms | ack p99 ms | delivery p50 ms | p95 ms | p99 ms | lost | rate-limited | server CPU % | tm-load CPU % |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rate_rows%$'\n'}"
best_table="| back end | highest step with delivery p99 <= 50 ms (msg/s) | highest step that kept up (p99 <= 250 ms, msg/s) |
|---|---|---|
${best_rows%$'\n'}"
gc_table="| back end | group commit | target msg/s | achieved msg/s | writes per batch | ack p50 ms | ack p99 ms | delivery p50 ms | p99 ms | server CPU % |
|---|---|---|---|---|---|---|---|---|---|
${gc_rows%$'\n'}"
idle_table="| back end | idle connections | server RSS before (MB) | with them open (MB) | KB per connection |
|---|---|---|---|---|
${idle_rows%$'\n'}"
printf '%s\n\n%s\n\n%s\n\n%s\n\n%s\n' "$fanout_table" "$rate_table" "$best_table" "$gc_table" "$idle_table"

section="<!-- bench:ws -->
### Real-time hub under tm-load (one instance)

Command: \`TM_BENCH_USERS=$users TM_BENCH_SECONDS=$seconds TM_BENCH_FANOUT_RATE=$fanout_rate TM_BENCH_RATES=\"${rates[*]}\" TM_BENCH_IDLE=$idle scripts/bench-ws.sh\`
Machine: $(tm_bench_machine); tm-load (2 threads) runs on the same 2 cores as the server, so every
figure includes its CPU (the tm-load column); the machine is shared with other work (1-minute load
average $load_start at the start, $load_end at the end). Date: $(date -u +%Y-%m-%d).
Latency is end to end: the sender's send time (written into the body) to each other member's
receive time, on one monotonic clock in tm-load; the warm-up's messages are not counted. $seed_note

Fan-out at the same message rate, $users users connected, every room busy:

$fanout_table

Sustained sends in rooms of 10 ($users users), stepping the rate up until the p99 passes 50 ms:

$rate_table

$best_table

Group commit off and on at the same load (fresh server each):

$gc_table

Server RSS per idle connection (hello only; users reused when there are more connections than users):

$idle_table
<!-- /bench:ws -->"
tm_bench_write_section "$root/docs/BENCHMARKS.md" ws "$section"
