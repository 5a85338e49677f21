#!/usr/bin/env bash
# bench-bigroom.sh: the "Big rooms" scenario of issue 18. On a fresh loopback cluster (cluster.sh:
# durable PostgreSQL, Redis, 3 instances, nginx) tm-load through nginx connects TM_BENCH_USERS
# users (default 5,000), all of them members of one "all hands" room of TM_BENCH_MEMBERS (default
# the same 5,000) and, in rooms of 10, carrying the usual load (TM_BENCH_RATE, default 500 msg/s:
# 0.1 a user a second, the goal scenario's), while the big room receives TM_BENCH_BIG_RATE
# (default 10) msg/s from its members; then the exact database check (--verify-db).
# Reported per run: the time until every user had `welcome` (all connect at once, at most
# TM_BENCH_CONNECT_CONCURRENCY handshakes in flight), the instances' CPU seconds in that time,
# the presence frames the clients received, the big room's delivery p50/p99 to every member and
# the other rooms' delivery p99.
# TM_BENCH_BATCH_MS (default "100") lists --presence-batch-ms values and TM_BENCH_ROOM_LIMIT
# (default "1000 0") --presence-room-limit values: one run for each pair, each on its own cluster.
# Batch 100 gathers presence changes into one frame per connection and window (the default); 0
# fans each change out at once, as before the batch (each connect a frame to every online member of
# the room). Limit 1000 (the server's default): a big room over it pushes no presence (clients ask
# with roomPresence; tm-load does not); 0 pushes every room's presence, as before the limit.
# Writes the section <!-- bench:bigroom --> of docs/BENCHMARKS.md (TM_BENCH_DOC) with the command,
# the machine, the date and the durability settings of the PostgreSQL that ran, and prints it.
#
# Environment: TM_BUILD_DIR (default build/), TM_SERVER_BIN / TM_LOAD_BIN (default the build's;
# e.g. copies outside the work tree), TM_BENCH_USERS (5000), TM_BENCH_MEMBERS (= users),
# TM_BENCH_RATE (500), TM_BENCH_BIG_RATE (10), TM_BENCH_SECONDS (30 measured, after 5 of warm-up),
# TM_BENCH_CONNECT_CONCURRENCY (1000), TM_BENCH_BATCH_MS ("100"), TM_BENCH_ROOM_LIMIT ("1000 0"), TM_BENCH_OUT (reports; default
# a new /tmp/tm-bench-bigroom.XXXXXX), TM_BENCH_DOC (docs/BENCHMARKS.md; "-" prints only),
# TM_PG_DURABLE (default 1: fsync, full_page_writes and synchronous_commit on; 0: the test
# suite's fast settings), TM_BENCH_REPORT_ONLY=1 (no runs: the section from the reports in
# TM_BENCH_OUT).
# Small and quick: TM_BENCH_USERS=500 TM_BENCH_RATE=50 TM_BENCH_SECONDS=10 TM_BENCH_DOC=- .
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

load=${TM_LOAD_BIN:-$build/tools/tm-load/tm-load}
server=${TM_SERVER_BIN:-$build/server/taskmaster-server}
users=${TM_BENCH_USERS:-5000}
members=${TM_BENCH_MEMBERS:-$users}
rate=${TM_BENCH_RATE:-500}
big_rate=${TM_BENCH_BIG_RATE:-10}
seconds=${TM_BENCH_SECONDS:-30}
concurrency=${TM_BENCH_CONNECT_CONCURRENCY:-1000}
read -r -a batches <<<"${TM_BENCH_BATCH_MS:-100}"
read -r -a limits <<<"${TM_BENCH_ROOM_LIMIT:-1000 0}"
runs=()
for b in "${batches[@]}"; do for l in "${limits[@]}"; do runs+=("$b:$l"); done; done
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}
tm_bench_setup bigroom "$load" "$server"
out=$TM_BENCH_OUT
# tm-load holds one socket per user, nginx two per WebSocket.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# run BATCH_MS ROOM_LIMIT: one fresh cluster, one tm-load run into $out/batch-BATCH_MS-limit-ROOM_LIMIT.json.
run() {
  local batch=$1 room_limit=$2 name=batch-$1-limit-$2 rc=0
  echo "bench-bigroom: $name ($server)" >&2
  # shellcheck disable=SC2016 # the inner script's own variables
  TM_SERVER_BIN=$server TM_CLUSTER_INSTANCES=3 TM_CLUSTER_NGINX_CONNECTIONS=16384 \
    TM_CLUSTER_SERVER_ARGS="--rate-api 0 --presence-batch-ms $batch --presence-room-limit $room_limit" \
    "$here/with-cluster.sh" bash -c '
      for s in fsync full_page_writes synchronous_commit; do
        printf "%s=%s " "$s" "$(psql -XAtq "$TM_DATABASE_URL" -c "SHOW $s" 2>/dev/null)"
      done >"$0/$1.pg"
      # The instances (--server-pid) and the nginx workers (--proxy-pid), reported apart.
      source "$9/scripts/bench-lib.sh"
      mapfile -t pids < <(tm_bench_pid_args)
      exec "$2" --url "$TM_CLUSTER_URL" --seed-db "$TM_DATABASE_URL" --verify-db "$TM_DATABASE_URL" \
        --json "$0/$1.json" --users "$3" --room-size 10 --rate "$4" --duration "$5" --warmup 5 \
        --big-room-members "$6" --big-room-rate "$7" --connect-concurrency "$8" "${pids[@]}" \
        --threads 2 --connect-timeout 300 --drain 30 --max-run 1200 --max-late-pct 5 --quiet' \
    "$out" "$name" "$load" "$users" "$rate" "$seconds" "$members" "$big_rate" "$concurrency" "$root" \
    >"$out/$name.txt" 2>"$out/$name.err" || rc=$?
  echo "$rc" >"$out/$name.rc"
  echo "bench-bigroom: $name: exit $rc" >&2
}

if ((tm_bench_runs)); then
  for r in "${runs[@]}"; do run "${r%%:*}" "${r##*:}"; done
fi

pg=$(cat "$out/batch-${runs[0]%%:*}-limit-${runs[0]##*:}.pg" 2>/dev/null || true)
table=$(
  echo "| --presence-batch-ms | --presence-room-limit | users / big room members | all welcomed s | CPU s while connecting: instances and nginx | presence frames: online / offline / lists | big room: sent | delivery p50 ms | p99 | max | other rooms: delivery p50 ms | p99 | ack p99 ms | sent / acked / dropped late | CPU % while sending: instances / nginx workers / tm-load | $TM_BENCH_COST_HEADERS | lost/dup/ooo | db check | exit |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for run in "${runs[@]}"; do
    b=${run%%:*} lim=${run##*:}
    j=$out/batch-$b-limit-$lim.json
    [[ -f $j ]] || continue
    jq -r --arg b "$b" --arg lim "$lim" --arg rc "$(cat "$out/batch-$b-limit-$lim.rc")" "$TM_BENCH_JQ_COST"'
      def ms: . * 10 | round / 10;
      def s: . * 10 | round / 10;
      def cpu: map((.loadCpuPercent // 0) | round | tostring) | join(" + ");
      . as $r
      | ($r.verification | if .ran then (if .problems == 0 then "exact: \(.streams) streams, \(.expected) events, 0 missing" else "\(.problems) problems" end) else "not run" end) as $db
      | $r.latencyMs as $l
      | $r.bigRoom as $big
      # Reports before --proxy-pid listed the nginx workers as servers 4..
      | (if ($r.proxies // []) == [] then [$r.servers[0:3], $r.servers[3:]] else [$r.servers, $r.proxies] end) as [$inst, $ngx]
      | "\($inst | cpu) / \($ngx | cpu) / \($r.self.loadCpuPercent // 0 | round)" as $cpu
      | "| \($b) | \($lim) | \($r.config.users) / \($big.members) | \($r.phases.connectSeconds | s) | \(($r.phases.connectServerCpuSeconds // 0) + ($r.phases.connectProxyCpuSeconds // 0) | s) | \($r.events.presenceOnline // "-") / \($r.events.presenceOffline // "-") / \($r.events.presenceLists // "-") | \($big.sent) | \($big.delivery.p50 | ms) | \($big.delivery.p99 | ms) | \($big.delivery.max | ms) | \($l.delivery.p50 | ms) | \($l.delivery.p99 | ms) | \($l.ack.p99 | ms) | \($r.messages.sent) / \($r.messages.acked) / \($r.messages.lateDropped // 0) | \($cpu) | \($r | tm_cost_msg) | \($r | tm_cost_del) | \($r.events.lost)/\($r.events.duplicated)/\($r.events.outOfOrder) | \($db) | \($rc) |"
    ' "$j"
  done
)

section=$(
  echo "<!-- bench:bigroom -->"
  echo "### Big rooms: one room of $members members (3 instances behind nginx)"
  echo
  echo "Written by \`scripts/cluster/bench-bigroom.sh\` on $(date -u +%Y-%m-%d) ($(tm_bench_machine)):"
  echo "$users users connecting at once (at most $concurrency handshakes in flight), the first $members"
  echo "of them members of one big room that receives $big_rate msg/s from its members, and all of them in"
  echo "rooms of 10 carrying $rate msg/s, for $seconds s after 5 s of warm-up, each run on a fresh"
  echo "cluster, every stream checked against PostgreSQL afterwards. PostgreSQL: ${pg:-settings not read}."
  echo "\"All welcomed\" is tm-load's connect phase: from the first handshake to the last \`welcome\`; the"
  echo "CPU seconds are those of the three instances and the nginx workers together over that phase; CPU %"
  echo "while sending is per process (100 = one core) over the measured window. Presence frames: what all clients"
  echo "received over the run, single ones online / offline, and list frames (the snapshot after"
  echo "\`welcome\` and the gathered changes). The big room's deliveries are counted apart: the"
  echo "\"other rooms\" columns do not include them. \`--presence-batch-ms 0\` fans each presence change"
  echo "out at once, as before the batch. \`--presence-room-limit\` N: a room of more than N members pushes no"
  echo "presence at all (no snapshot, no changes; clients ask with \`roomPresence\`, which tm-load does not); 0 pushes"
  echo "every room's. $TM_BENCH_COST_NOTE The deliveries include the big room's."
  echo
  echo '```'
  echo "TM_BENCH_USERS=$users TM_BENCH_MEMBERS=$members TM_BENCH_RATE=$rate TM_BENCH_BIG_RATE=$big_rate TM_BENCH_SECONDS=$seconds TM_BENCH_BATCH_MS=\"${batches[*]}\" TM_BENCH_ROOM_LIMIT=\"${limits[*]}\" scripts/cluster/bench-bigroom.sh"
  echo '```'
  echo
  echo "$table"
  echo "<!-- /bench:bigroom -->"
)
echo "$section"
echo "bench-bigroom: reports in $out" >&2
if [[ "$doc" != "-" ]]; then
  tm_bench_write_section "$doc" bigroom "$section"
  echo "bench-bigroom: wrote the bigroom section of $doc" >&2
fi
