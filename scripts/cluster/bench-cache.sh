#!/usr/bin/env bash
# bench-cache.sh: the cache and the cluster's delivery paths, on a loopback cluster (cluster.sh:
# PostgreSQL, Redis, 3 instances, nginx), written to docs/BENCHMARKS.md section bench:cache:
#   1. hit rate of the REST cache under a read mix of static data through nginx (wrk: profiles,
#      projects, task lists, latest message pages, with 5 % task updates that invalidate), from
#      the instances' cache_hits_total / cache_misses_total before and after;
#   2. latency of one cached GET through nginx and straight to an instance, against the same
#      work uncached (an older history page, never cached) and /health (the HTTP ceiling);
#   3. delivery latency of messages between clients on the same instance and on different
#      instances (tm-load through nginx, sender's instance in each message).
# Environment: TM_BUILD_DIR (default build/), TM_BENCH_SECONDS (per wrk run, default 15),
# TM_BENCH_CONNECTIONS (wrk, default 32), TM_BENCH_LOAD_USERS (300), TM_BENCH_LOAD_RATE (150),
# TM_BENCH_LOAD_SECONDS (20), TM_BENCH_DOC (docs/BENCHMARKS.md; "-" prints only). Exits with
# tm-load's status (its run checked exactly against PostgreSQL: --verify-db). Runs inside
# TM_CLUSTER_DIR's cluster when cluster.env is there (start it with
# TM_CLUSTER_SERVER_ARGS="--rate-api 0"), else starts one with with-cluster.sh (with that setting)
# and stops it at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
export TM_SERVER_BIN=${TM_SERVER_BIN:-$build/server/taskmaster-server}
if [[ -z "${TM_CLUSTER_DIR:-}" || ! -f "${TM_CLUSTER_DIR:-}/cluster.env" ]]; then
  unset TM_CLUSTER_DIR
  export TM_CLUSTER_INSTANCES=3
  # wrk sends thousands of requests per second with a few users' tokens: no per-user API limit.
  export TM_CLUSTER_SERVER_ARGS=${TM_CLUSTER_SERVER_ARGS:---rate-api 0}
  exec "$here/with-cluster.sh" "$0" "$@"
fi
set -a
# shellcheck disable=SC1091
source "$TM_CLUSTER_DIR/cluster.env"
set +a
# shellcheck source=../bench-lib.sh
source "$root/scripts/bench-lib.sh"
for tool in wrk jq curl; do
  command -v "$tool" >/dev/null || {
    echo "bench-cache: needs $tool (scripts/setup.sh installs it)" >&2
    exit 2
  }
done
load=$build/tools/tm-load/tm-load
seconds=${TM_BENCH_SECONDS:-15}
connections=${TM_BENCH_CONNECTIONS:-32}
work=$(mktemp -d /tmp/tm-bench-cache.XXXXXX)
trap 'rm -rf "$work"' EXIT
base=$TM_CLUSTER_URL
j='Content-Type: application/json'

# ---- seed: 10 users, each with 2 projects of 30 tasks and 2 rooms of 30 messages -----------------
say() { echo "bench-cache: $*" >&2; }
say "seeding through nginx"
post() { # path token body -> the response's id
  curl -sf -X POST "$base$1" -H "$j" -H "Authorization: Bearer $2" -d "$3" | jq -r '.id'
}
: >"$work/users"
: >"$work/reads"
: >"$work/tasks"
for u in $(seq 10); do
  reg=$(curl -sf -X POST "$base/api/v1/auth/register" -H "$j" -H "X-Forwarded-For: 10.1.0.$u" \
    -d "{\"username\":\"bench$u-$$\",\"password\":\"password123\",\"displayName\":\"Bench $u\"}")
  token=$(jq -r .token <<<"$reg")
  uid=$(jq -r .user.id <<<"$reg")
  echo "$uid $token" >>"$work/users"
  for _ in 1 2; do
    pid=$(post /api/v1/projects "$token" "{\"name\":\"project of $u\"}")
    for t in $(seq 30); do
      tid=$(post "/api/v1/projects/$pid/tasks" "$token" "{\"title\":\"task $t of project $pid\",\"description\":\"some words to make the task list look real\"}")
      echo "$tid $token" >>"$work/tasks"
    done
    rid=$(post /api/v1/rooms "$token" '{"name":"room","memberIds":[]}')
    for m in $(seq 30); do
      post "/api/v1/rooms/$rid/messages" "$token" "{\"body\":\"message $m in room $rid with a few words\"}" >/dev/null
    done
    echo "project $pid $token" >>"$work/reads"
    echo "tasks $pid $token" >>"$work/reads"
    echo "room $rid $token" >>"$work/reads"
  done
done
first_token=$(head -n 1 "$work/users" | cut -d' ' -f2)
first_user=$(head -n 1 "$work/users" | cut -d' ' -f1)
first_room=$(grep '^room ' "$work/reads" | head -n 1 | cut -d' ' -f2)

# ---- 1. hit rate under a read mix ---------------------------------------------------------------
# One Lua table per kind of request; wrk's request() draws one at random for every request.
{
  echo "users = {"
  while read -r uid token; do echo "  {\"$uid\", \"$token\"},"; done <"$work/users"
  echo "}"
  for kind in project tasks room; do
    echo "$kind = {"
    grep "^$kind " "$work/reads" | while read -r _ id token; do echo "  {\"$id\", \"$token\"},"; done
    echo "}"
  done
  echo "writes = {"
  shuf -n 60 --random-source=<(yes) "$work/tasks" | while read -r tid token; do echo "  {\"$tid\", \"$token\"},"; done
  echo "}"
  cat <<'LUA'
math.randomseed(42)
local function pick(t) return t[math.random(#t)] end
local function auth(token) return { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" } end
request = function()
  local r = math.random(100)
  if r <= 40 then
    local u = pick(users)
    return wrk.format("GET", "/api/v1/users/" .. pick(users)[1], auth(u[2]))
  elseif r <= 60 then
    local p = pick(project)
    return wrk.format("GET", "/api/v1/projects/" .. p[1], auth(p[2]))
  elseif r <= 85 then
    local p = pick(tasks)
    return wrk.format("GET", "/api/v1/projects/" .. p[1] .. "/tasks", auth(p[2]))
  elseif r <= 95 then
    local m = pick(room)
    return wrk.format("GET", "/api/v1/rooms/" .. m[1] .. "/messages", auth(m[2]))
  else
    local t = pick(writes)
    return wrk.format("PATCH", "/api/v1/tasks/" .. t[1], auth(t[2]), '{"priority":"high"}')
  end
end
LUA
  tm_bench_wrk_report
} >"$work/mix.lua"

counters() { # kind -> "hits misses" summed over the instances
  local hits=0 misses=0 i url h m
  for ((i = 1; i <= TM_CLUSTER_INSTANCES; i++)); do
    url=TM_INSTANCE_${i}_URL
    h=$(curl -sf "${!url}/metrics" | awk -v k="$1" '$1 == "cache_hits_total{cache=\"" k "\"}" { print $2 }')
    m=$(curl -sf "${!url}/metrics" | awk -v k="$1" '$1 == "cache_misses_total{cache=\"" k "\"}" { print $2 }')
    hits=$((hits + ${h:-0}))
    misses=$((misses + ${m:-0}))
  done
  echo "$hits $misses"
}
kinds=(user project tasks messages)
declare -A before
for k in "${kinds[@]}"; do before[$k]=$(counters "$k"); done
say "read mix through nginx for ${seconds}s"
mix=$(wrk -t 1 -c "$connections" -d "${seconds}s" -s "$work/mix.lua" "$base" | grep '^RESULT')
read -r _ mix_rps mix_p50 mix_p95 mix_p99 mix_errors mix_total <<<"$mix"
hit_rows=""
all_h=0
all_m=0
for k in "${kinds[@]}"; do
  read -r h0 m0 <<<"${before[$k]}"
  read -r h1 m1 <<<"$(counters "$k")"
  dh=$((h1 - h0))
  dm=$((m1 - m0))
  all_h=$((all_h + dh))
  all_m=$((all_m + dm))
  rate=$(awk -v h="$dh" -v m="$dm" 'BEGIN { if (h + m > 0) printf "%.1f", 100 * h / (h + m); else print "-" }')
  hit_rows+="| $k | $dh | $dm | $rate % |"$'\n'
done
all_rate=$(awk -v h="$all_h" -v m="$all_m" 'BEGIN { if (h + m > 0) printf "%.1f", 100 * h / (h + m); else print "-" }')
hit_rows+="| **all** | $all_h | $all_m | **$all_rate %** |"

# ---- 2. one cached GET against the same work uncached --------------------------------------------
tm_bench_wrk_report >"$work/report.lua"
measure() { # label url [auth] [connections]
  local args=(-t 1 -c "${4:-$connections}" -d "${seconds}s" -s "$work/report.lua")
  [[ -n "${3:-}" ]] && args+=(-H "Authorization: Bearer $first_token")
  wrk -t 1 -c "${4:-$connections}" -d 2s "${args[@]:8}" "$2" >/dev/null # warm-up
  local line
  line=$(wrk "${args[@]}" "$2" | grep '^RESULT')
  read -r _ rps p50 p95 p99 errors total <<<"$line"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p95" "$p99" "$errors/$total"
}
say "cached and uncached GETs"
direct=$TM_INSTANCE_1_URL
get_rows=""
get_rows+=$(measure "GET /health through nginx (ceiling)" "$base/health")$'\n'
get_rows+=$(measure "GET /users/{id}, cached, through nginx" "$base/api/v1/users/$first_user" auth)$'\n'
get_rows+=$(measure "GET /users/{id}, cached, through nginx, 1 connection" "$base/api/v1/users/$first_user" auth 1)$'\n'
get_rows+=$(measure "GET /users/{id}, cached, straight to tm-1" "$direct/api/v1/users/$first_user" auth)$'\n'
get_rows+=$(measure "GET /rooms/{id}/messages latest 30, cached, through nginx" "$base/api/v1/rooms/$first_room/messages" auth)$'\n'
get_rows+=$(measure "GET /rooms/{id}/messages?after=0 (same 30, uncached), through nginx" "$base/api/v1/rooms/$first_room/messages?after=0" auth)

# ---- 3. same-instance against cross-instance delivery ----------------------------------------------
users=${TM_BENCH_LOAD_USERS:-300}
rate=${TM_BENCH_LOAD_RATE:-150}
load_seconds=${TM_BENCH_LOAD_SECONDS:-20}
say "tm-load: $users users, $rate msg/s, ${load_seconds}s"
mapfile -t pids < <(tm_bench_pid_args)
load_rc=0
"$load" --url "$base" --users "$users" --room-size 10 --rate "$rate" --duration "$load_seconds" --warmup 3 \
  --verify-db "$TM_DATABASE_URL" --threads 2 --quiet --json "$work/load.json" "${pids[@]}" \
  >"$work/load.txt" 2>"$work/load.err" || load_rc=$?
say "tm-load: exit $load_rc"
delivery_rows=$(jq -r "$TM_BENCH_JQ_COST"'. as $r | .latencyMs as $l | [["all", $l.delivery], ["same instance", $l.deliverySameInstance], ["cross instance", $l.deliveryCrossInstance]][]
  | "| \(.[0]) | \(.[1].count) | \(.[1].p50 * 100 | round / 100) | \(.[1].p95 * 100 | round / 100) | \(.[1].p99 * 100 | round / 100) | \(.[1].max * 100 | round / 100) | \(if .[0] == "all" then ($r | tm_cost_msg) else "" end) | \(if .[0] == "all" then ($r | tm_cost_del) else "" end) |"' "$work/load.json")
loss=$(jq -r '.events | "\(.lost) lost, \(.duplicated) duplicated, \(.outOfOrder) out of order"' "$work/load.json")
db=$(jq -r '.verification | if .ran then (if .problems == 0 then "database check exact: \(.streams) streams, \(.expected) events, 0 missing" else "database check: \(.problems) problems" end) else "database check not run" end' "$work/load.json")

section="<!-- bench:cache -->
### REST cache and cross-instance delivery (3 instances behind nginx)

Command: \`TM_BENCH_SECONDS=$seconds TM_BENCH_CONNECTIONS=$connections scripts/cluster/bench-cache.sh\`
Machine: $(tm_bench_machine); PostgreSQL, Redis, nginx, the 3 instances, wrk and tm-load all share
the 2 cores. Date: $(date -u +%Y-%m-%d).

Read mix through nginx ($connections connections, ${seconds} s, $mix_total requests, $mix_rps req/s,
p50 $mix_p50 ms, p95 $mix_p95 ms, p99 $mix_p99 ms, errors $mix_errors): 40 % user profiles, 20 %
projects, 25 % task lists, 10 % latest message pages, 5 % task updates (each invalidates its
project's task lists); 10 users, 20 projects of 30 tasks, 20 rooms of 30 messages. Hit rate from
the instances' \`cache_hits_total\` / \`cache_misses_total\` (spec > 80 %, goal > 95 %):

| cache | hits | misses | hit rate |
|---|---|---|---|
$hit_rows

One URL at a time, $connections connections (unless the row says otherwise), ${seconds} s each (ms):

| request | requests/s | p50 | p95 | p99 | errors/requests |
|---|---|---|---|---|---|
${get_rows%$'\n'}

Message delivery through nginx, tm-load with $users users in rooms of 10 at $rate msg/s for
${load_seconds} s ($loss; $db; tm-load exit $load_rc), split by whether sender and receiver were
connected to the same instance (the hub's local fan-out) or to different ones (Redis pub/sub in
between), ms. $TM_BENCH_COST_NOTE

| delivery | samples | p50 | p95 | p99 | max | $TM_BENCH_COST_HEADERS |
|---|---|---|---|---|---|---|---|
$delivery_rows
<!-- /bench:cache -->"
echo "$section"
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}
if [[ "$doc" != "-" ]]; then tm_bench_write_section "$doc" cache "$section"; fi
exit "$load_rc"
