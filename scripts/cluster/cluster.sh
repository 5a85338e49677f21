#!/usr/bin/env bash
# cluster.sh: a TaskMaster cluster on loopback, as the current user, in one directory.
#
#   cluster.sh start               PostgreSQL (fresh database), Redis, N taskmaster-server instances
#                                  and nginx in front of them; waits until each answers, writes
#                                  DIR/cluster.env and prints where each part listens
#   cluster.sh stop                stops everything (instances: SIGTERM, SIGKILL after a timeout)
#                                  and removes DIR unless TM_CLUSTER_KEEP=1
#   cluster.sh status              what runs where; exit 0 when every part is up, 1 otherwise
#   cluster.sh restart-instance I  SIGTERM instance I, start it again on the same port, wait for it
#   cluster.sh kill-instance I     SIGKILL instance I (fault drills); nginx fails over
#   cluster.sh start-instance I    start instance I again on its port (after kill-instance)
#   cluster.sh rolling-restart     restart every instance in turn: SIGTERM (it drains: readiness
#                                  503, `reconnect` to its sockets, exit), start it on its port,
#                                  wait for /health/ready 200, for nginx to route to it and for it
#                                  to hold its share of the WebSocket connections again (the others
#                                  send it theirs: --ws-rebalance-rate), next
#   cluster.sh restart-redis [S]   stop Redis and start it again on the same port (fault drills);
#                                  with S, keep it down for S seconds first
#   cluster.sh restart-postgres    stop PostgreSQL at once (immediate: like a crash; it recovers from
#                                  its WAL) and start it again on its port with its data (fault
#                                  drills; a durable PostgreSQL, the default, keeps what it
#                                  acknowledged, as in production)
#   cluster.sh proxy-redis I       route instance I's Redis link through a tm-tcp-proxy of its own
#                                  (tests/support) and restart I with that --redis-url (kept for its
#                                  restarts), so that a drill can cut I alone off Redis
#   cluster.sh cut-redis I [S]     cut instance I's Redis link (after proxy-redis): every connection
#                                  of I to Redis closed, new ones refused, while the other instances
#                                  keep Redis; with S, restore it after S seconds
#   cluster.sh restore-redis I     restore instance I's Redis link
#   cluster.sh restart-nginx       stop nginx at once (every connection through it drops) and start
#                                  it again on the same port (fault drills: all clients reconnect)
#   cluster.sh add-instance        scale out: start a new instance tm-<next> on a free port, wait until
#                                  it is ready, add it to nginx's upstream (re-rendered, `nginx -s
#                                  reload`: no connection dropped) and wait until nginx routes to it
#   cluster.sh remove-instance I   scale in: take instance I out of nginx's upstream (reload), then
#                                  SIGTERM it (it drains: `reconnect` to its sockets, which come back
#                                  through nginx to the others) and forget it
#
# Environment:
#   TM_CLUSTER_DIR          the cluster's directory: start creates it (default: a new
#                           /tmp/tm-cluster.XXXXXX); the other commands need it (cluster.env sets it)
#   TM_CLUSTER_INSTANCES    number of instances start starts (default 3)
#   TM_CLUSTER_SERVER_ARGS  extra arguments for every instance, split on whitespace
#   TM_CLUSTER_SERVER_ARGS_<i>  extra arguments for instance i only, after those (a later option
#                           wins: e.g. a --redis-url through a proxy that a drill can cut)
#   TM_PG_DURABLE=0         PostgreSQL with fsync, synchronous_commit and full_page_writes off
#                           (scripts/services.sh: faster, not crash-safe; the test suite's
#                           with-services.sh sets it); by default all three on, as in production
#   TM_CLUSTER_REPLICA=1    start also a PostgreSQL hot-standby streaming replica of the database
#                           (DIR/pg-replica) and give every instance --database-replica-url
#   TM_SERVER_BIN           the server binary (default: build/server/taskmaster-server, or the
#                           first taskmaster-server under build/)
#   TM_TCP_PROXY_BIN        tm-tcp-proxy for proxy-redis (default: the first one under build/)
#   TM_CLUSTER_KEEP=1       stop leaves the directory (logs) in place
#   TM_CLUSTER_START_TIMEOUT  seconds each part may take to answer (default 60)
#   TM_CLUSTER_STOP_TIMEOUT   seconds an instance gets after SIGTERM before SIGKILL (default 15)
#   TM_CLUSTER_NGINX_WORKERS  nginx worker processes (default 2)
#   TM_CLUSTER_NGINX_CONNECTIONS  worker_connections of each nginx worker (default 10240; a
#                           proxied WebSocket takes two)
#   TM_CLUSTER_NGINX_ARGS   extra arguments for packaging/nginx/render-conf.sh, split on
#                           whitespace (e.g. "--client-header-timeout 2s"); kept for reloads
#   TM_CLUSTER_ROUTE_TIMEOUT  rolling-restart: seconds nginx may take to send a restarted instance
#                           requests again (default 60: its fail_timeout is 5 s, but while the
#                           drained clients keep arriving nginx may hold it out longer, see
#                           docs/cluster.md "Rolling restart")
#   TM_CLUSTER_BALANCE_TIMEOUT  rolling-restart: seconds a restarted instance may take to get its
#                           share of the connections back before the next restart goes ahead anyway
#                           (default 60; 0 = do not wait, e.g. with --ws-rebalance-rate 0)
#   TM_CLUSTER_MONITORING=1 start also prometheus-nginx-exporter (reading nginx's stub_status) and
#                           a Prometheus with monitoring/prometheus/ (its config and alert rules)
#                           scraping every instance and the exporter (DIR/prometheus)
#   TM_CLUSTER_SCRAPE_INTERVAL  that Prometheus' scrape and evaluation interval (default 5s)
#   TM_CLUSTER_TLS=1        nginx also serves HTTPS with HTTP/2 (and wss://) on a second port, with
#                           a self-signed certificate for 127.0.0.1 and localhost made at start
#                           (DIR/nginx/tls/cert.pem, key.pem; openssl)
#
# Instances are numbered from 1 in the order they were added; a removed instance's number is not
# used again. TM_CLUSTER_MEMBERS in cluster.env lists the numbers in the pool ("1 3 4").
# DIR holds: cluster.env (KEY=value lines, shell-quoted: TM_CLUSTER_URL, TM_INSTANCE_<i>_URL,
# TM_INSTANCE_<i>_PID, TM_DATABASE_URL, TM_REDIS_URL, TM_NGINX_PID, ...; with the replica
# TM_DATABASE_REPLICA_URL and TM_PG_REPLICA_PID), tm-<i>/ (data dir), tm-<i>.log, pg/,
# pg-replica/ (with the replica), redis/, nginx/ (nginx.conf, taskmaster.conf, access.log, error.log),
# prometheus/ (targets/taskmaster.json and nginx.json: Prometheus file_sd lists of the instances
# and the exporter, rewritten whenever they change; with monitoring also the config, rules, data).
# See docs/cluster.md.

# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../services.sh
source "$root/scripts/services.sh"

start_timeout=${TM_CLUSTER_START_TIMEOUT:-60}
stop_timeout=${TM_CLUSTER_STOP_TIMEOUT:-15}
route_timeout=${TM_CLUSTER_ROUTE_TIMEOUT:-60}
balance_timeout=${TM_CLUSTER_BALANCE_TIMEOUT:-60}
marker=.tm-cluster # only a directory holding it is ever removed

say() { echo "cluster: $*"; }
die() {
  echo "cluster: $*" >&2
  exit 1
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

# --- processes -------------------------------------------------------------------------------------

# True when pid runs and is not a zombie (a killed instance stays a zombie until its parent reaps it).
alive() {
  local pid=${1:-} state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z && "$state" != X ]]
}

# True when pid is alive and one of its arguments is exactly arg (guards against reused pids).
pid_has_arg() {
  local pid=$1 arg=$2
  alive "$pid" || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$arg"
}

# True when pid is alive and its command line contains text (nginx rewrites its argv into one
# string: "nginx: master process nginx -p ... -c DIR/nginx.conf").
pid_has_text() {
  local pid=$1 text=$2
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$text"
}

# Waits until pid is gone, up to timeout seconds; false when it is still there.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

find_server_bin() {
  if [[ -n "${TM_SERVER_BIN:-}" ]]; then
    [[ -x "$TM_SERVER_BIN" ]] || die "TM_SERVER_BIN=$TM_SERVER_BIN is not an executable"
    echo "$TM_SERVER_BIN"
    return
  fi
  local b=$root/build/server/taskmaster-server
  if [[ ! -x "$b" ]]; then
    b=$(find "$root/build" -type f -name taskmaster-server -perm -u+x 2>/dev/null | head -n 1 || true)
  fi
  [[ -n "$b" && -x "$b" ]] || die "no taskmaster-server under $root/build: build it (cmake --build build --target taskmaster-server) or set TM_SERVER_BIN"
  echo "$b"
}

find_nginx() {
  local b
  b=$(command -v nginx 2>/dev/null || true)
  [[ -n "$b" ]] || b=/usr/sbin/nginx
  [[ -x "$b" ]] || die "nginx is not installed (scripts/setup.sh installs it)"
  echo "$b"
}

# --- state -----------------------------------------------------------------------------------------

# Loads DIR/cluster.env (the other commands than start).
load_cluster() {
  dir=${TM_CLUSTER_DIR:-}
  [[ -n "$dir" ]] || die "TM_CLUSTER_DIR is not set (it is in the cluster.env that start wrote)"
  [[ -f "$dir/cluster.env" ]] || die "no cluster in $dir (no cluster.env)"
  # Only cluster.env says whether the cluster has a replica (one written without it has no such
  # line); the instances get it as an argument, never from an environment we inherited.
  unset TM_DATABASE_REPLICA_URL
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  dir=$TM_CLUSTER_DIR
  n=$TM_CLUSTER_INSTANCES
  # Written by older scripts without it: instances 1..n.
  read -r -a members <<<"${TM_CLUSTER_MEMBERS:-$(seq -s ' ' 1 "$n")}"
  bin=$TM_SERVER_BIN
  db_url=$TM_DATABASE_URL
  replica_url=${TM_DATABASE_REPLICA_URL:-}
  redis_url=$TM_REDIS_URL
  nginx_port=$TM_NGINX_PORT
  monitoring=${TM_CLUSTER_MONITORING:-0}
  tls_port=${TM_NGINX_TLS_PORT:-}
  read -r -a extra_args <<<"$TM_CLUSTER_SERVER_ARGS"
}

# True when instance i is in the pool.
is_member() {
  local m
  for m in "${members[@]}"; do [[ "$m" == "$1" ]] && return 0; done
  return 1
}

check_index() {
  if ! [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || ! is_member "$1"; then die "instance must be one of ${members[*]}, got '${1:-}'"; fi
}

instance_pid() { cat "$dir/tm-$1.pid" 2>/dev/null || true; }
instance_port() { cat "$dir/tm-$1.port" 2>/dev/null || true; }
nginx_pid() { cat "$dir/nginx/nginx.pid" 2>/dev/null || true; }
replica_pid() { head -n 1 "$dir/pg-replica/data/postmaster.pid" 2>/dev/null || true; }
prometheus_pid() { cat "$dir/prometheus/prometheus.pid" 2>/dev/null || true; }
exporter_pid() { cat "$dir/prometheus/nginx-exporter.pid" 2>/dev/null || true; }
# An instance's pid is ours when its command line carries its data directory.
instance_runs() { pid_has_arg "$(instance_pid "$1")" "$dir/tm-$1"; }

kv() { printf '%s=%q\n' "$1" "$2"; }

write_env() {
  local i tmp=$dir/cluster.env.tmp
  {
    echo "# TaskMaster cluster of scripts/cluster/cluster.sh (KEY=value, shell-quoted)"
    kv TM_CLUSTER_DIR "$dir"
    kv TM_CLUSTER_URL "http://127.0.0.1:$nginx_port"
    kv TM_CLUSTER_WS_URL "ws://127.0.0.1:$nginx_port/ws"
    kv TM_CLUSTER_INSTANCES "${#members[@]}"
    kv TM_CLUSTER_MEMBERS "${members[*]}"
    for i in "${members[@]}"; do
      kv "TM_INSTANCE_${i}_NAME" "tm-$i"
      kv "TM_INSTANCE_${i}_URL" "http://127.0.0.1:$(instance_port "$i")"
      kv "TM_INSTANCE_${i}_PID" "$(instance_pid "$i")"
      kv "TM_INSTANCE_${i}_LOG" "$dir/tm-$i.log"
    done
    kv TM_DATABASE_URL "$db_url"
    kv TM_REDIS_URL "$redis_url"
    kv TM_PG_PID "$(head -n 1 "$dir/pg/data/postmaster.pid" 2>/dev/null || true)"
    if [[ -n "$replica_url" ]]; then
      kv TM_DATABASE_REPLICA_URL "$replica_url"
      kv TM_PG_REPLICA_PID "$(replica_pid)"
    fi
    kv TM_REDIS_PID "$(cat "$dir/redis/redis.pid" 2>/dev/null || true)"
    kv TM_NGINX_PORT "$nginx_port"
    kv TM_NGINX_PID "$(nginx_pid)"
    kv TM_NGINX_ACCESS_LOG "$dir/nginx/access.log"
    if [[ -n "$tls_port" ]]; then
      kv TM_CLUSTER_HTTPS_URL "https://127.0.0.1:$tls_port"
      kv TM_CLUSTER_WSS_URL "wss://127.0.0.1:$tls_port/ws"
      kv TM_NGINX_TLS_PORT "$tls_port"
      kv TM_CLUSTER_TLS_CERT "$dir/nginx/tls/cert.pem"
    fi
    kv TM_SERVER_BIN "$bin"
    kv TM_CLUSTER_SERVER_ARGS "${extra_args[*]}"
    kv TM_CLUSTER_MONITORING "$monitoring"
    if [[ "$monitoring" == 1 ]]; then
      kv TM_PROMETHEUS_URL "http://127.0.0.1:$(cat "$dir/prometheus/prometheus.port" 2>/dev/null || true)"
      kv TM_PROMETHEUS_PID "$(prometheus_pid)"
      kv TM_NGINX_EXPORTER_URL "http://127.0.0.1:$(cat "$dir/prometheus/nginx-exporter.port" 2>/dev/null || true)"
      kv TM_NGINX_EXPORTER_PID "$(exporter_pid)"
    fi
  } >"$tmp"
  mv "$tmp" "$dir/cluster.env"
  write_targets
}

# Prometheus file_sd lists (JSON): every instance of the pool with its name, and nginx's exporter
# when it runs. Written whole and renamed, so Prometheus never reads half a file; it notices the
# change by itself (no reload).
write_targets() {
  local i sep="" tmp=$dir/prometheus/targets/.taskmaster.json.tmp
  mkdir -p "$dir/prometheus/targets"
  {
    echo "["
    for i in "${members[@]}"; do
      printf '%s  {"targets": ["127.0.0.1:%s"], "labels": {"tm_instance": "tm-%s"}}' "$sep" "$(instance_port "$i")" "$i"
      sep=$',\n'
    done
    printf '\n]\n'
  } >"$tmp"
  mv "$tmp" "$dir/prometheus/targets/taskmaster.json"
  tmp=$dir/prometheus/targets/.nginx.json.tmp
  if [[ -f "$dir/prometheus/nginx-exporter.port" ]]; then
    printf '[\n  {"targets": ["127.0.0.1:%s"]}\n]\n' "$(cat "$dir/prometheus/nginx-exporter.port")" >"$tmp"
  else
    echo "[]" >"$tmp"
  fi
  mv "$tmp" "$dir/prometheus/targets/nginx.json"
}

# One command at a time changes a cluster (cluster.env, pid files). The instances it starts must
# not inherit fd 9, or they would hold the lock for as long as they live.
lock_cluster() {
  exec 9>"$dir/.lock"
  flock 9
}

# --- instances -------------------------------------------------------------------------------------

# Launches instance i on port (in the background, detached from our output) and records its pid.
launch_instance() {
  local i=$1 port=$2 pid replica_args=() own_args=() own_var="TM_CLUSTER_SERVER_ARGS_$1"
  [[ -z "$replica_url" ]] || replica_args=(--database-replica-url "$replica_url")
  mkdir -p "$dir/tm-$i"
  # The instance's own arguments: from the environment at its first start, kept for its restarts.
  if [[ -n "${!own_var:-}" ]]; then echo "${!own_var}" >"$dir/tm-$i.args"; fi
  if [[ -f "$dir/tm-$i.args" ]]; then read -r -a own_args <"$dir/tm-$i.args"; fi
  echo "--- cluster.sh: starting tm-$i on 127.0.0.1:$port at $(date -u +%FT%TZ)" >>"$dir/tm-$i.log"
  # The load generators reach every instance from one address (127.0.0.1 through nginx): no
  # per-address connection cap unless the caller sets one (TM_CLUSTER_SERVER_ARGS or the variable).
  TM_MAX_CONNECTIONS_PER_ADDRESS=${TM_MAX_CONNECTIONS_PER_ADDRESS:-0} \
    nohup "$bin" --listen "127.0.0.1:$port" --database-url "$db_url" --redis-url "$redis_url" \
    --instance-name "tm-$i" --data-dir "$dir/tm-$i" --trusted-proxies 127.0.0.1 "${replica_args[@]}" "${extra_args[@]}" \
    "${own_args[@]}" </dev/null >>"$dir/tm-$i.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$dir/tm-$i.pid"
  echo "$port" >"$dir/tm-$i.port"
}

# Waits for instance i's /health. 0: up; 1: it exited; 2: deadline passed.
await_instance() {
  local i=$1 pid port deadline=$((SECONDS + start_timeout))
  pid=$(instance_pid "$i")
  port=$(instance_port "$i")
  while ((SECONDS < deadline)); do
    alive "$pid" || return 1
    http_ok "http://127.0.0.1:$port/health" && return 0
    sleep 0.1
  done
  return 2
}

instance_failed() {
  local i=$1 why=$2
  echo "cluster: tm-$i $why; end of $dir/tm-$i.log:" >&2
  tail -n 20 "$dir/tm-$i.log" >&2 || true
}

# Sends SIGTERM to instance i and waits for it to exit; SIGKILL after the stop timeout.
stop_instance() {
  local i=$1 pid
  pid=$(instance_pid "$i")
  instance_runs "$i" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$stop_timeout"; then
    echo "cluster: tm-$i did not exit ${stop_timeout}s after SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || true
  fi
}

# Starts instance i on its recorded port and waits for it.
restart_on_port() {
  local i=$1 port rc=0
  port=$(instance_port "$i")
  [[ -n "$port" ]] || die "tm-$i has no recorded port"
  launch_instance "$i" "$port"
  await_instance "$i" || rc=$?
  if ((rc != 0)); then
    instance_failed "$i" "$([[ $rc == 1 ]] && echo exited || echo "did not answer /health within ${start_timeout}s")"
    return 1
  fi
  write_env
  say "tm-$i http://127.0.0.1:$port (pid $(instance_pid "$i"))"
}

# Waits for instance i's /health/ready to answer 200 (database reachable, migrations done, not
# draining; "degraded" without Redis is 200 too). 0: ready; 1: it exited; 2: deadline passed.
await_ready() {
  local i=$1 pid port deadline=$((SECONDS + start_timeout))
  pid=$(instance_pid "$i")
  port=$(instance_port "$i")
  while ((SECONDS < deadline)); do
    alive "$pid" || return 1
    http_ok "http://127.0.0.1:$port/health/ready" && return 0
    sleep 0.1
  done
  return 2
}

# Waits until nginx sends requests to instance i again: after a restart nginx may still hold it
# out of rotation (max_fails/fail_timeout), and the next instance must not go down before. Probes
# /health through nginx with request ids of our own and reads nginx's access log (JSON lines,
# flushed every second) for one answered by the instance's address. 0: routed; 1: not in time.
await_routed() {
  local i=$1 port log tag n=0 deadline=$((SECONDS + route_timeout))
  port=$(instance_port "$i")
  log=$dir/nginx/access.log
  tag=rr$$x$RANDOM
  while ((SECONDS < deadline)); do
    n=$((n + 1))
    curl -fsS -o /dev/null --max-time 2 -H "X-Request-Id: $tag-$n" "http://127.0.0.1:$nginx_port/health" 2>/dev/null || true
    # The last address of "upstream" answered (earlier ones were tried and failed over).
    if grep -F "\"requestId\":\"$tag-" "$log" 2>/dev/null | grep -qE "\"upstream\":\"([^\"]*, )?127\.0\.0\.1:$port\""; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# The WebSocket connections instance i holds now (its /metrics), or nothing.
instance_connections() {
  curl -fsS --max-time 2 "http://127.0.0.1:$(instance_port "$1")/metrics" 2>/dev/null |
    awk '$1 ~ /websocket_active_connections$/ { n = int($2) } END { if (n != "") print n }' || true
}

# Waits (at most balance_timeout seconds) until instance i holds about its share of the
# cluster's WebSocket connections: within what the others may keep over theirs (their slack,
# server/ws/rebalancer.h). Restarted, it is empty; the next restart's clients would all land on
# it at once (nginx least_conn), one instance taking thousands of hellos while the others idle.
await_balanced() {
  local i=$1 j n mine total count share slack deadline=$((SECONDS + balance_timeout)) t0=$SECONDS
  local best=-1 grew=$SECONDS
  while :; do
    total=0 count=0 mine=0
    for j in "${members[@]}"; do
      n=$(instance_connections "$j")
      [[ -n "$n" ]] || continue
      total=$((total + n)) count=$((count + 1))
      [[ $j == "$i" ]] && mine=$n
    done
    ((count > 0)) || return 0
    share=$(((total + count - 1) / count))
    slack=$((share / 10 > 50 ? share / 10 : 50))
    if ((mine + (count - 1) * slack >= share)); then
      ((total == 0)) || say "tm-$i holds $mine of $total connections (share $share) after $((SECONDS - t0)) s"
      return 0
    fi
    ((mine > best)) && best=$mine grew=$SECONDS
    # Not growing for 15 s: the instances do not rebalance (--ws-rebalance-rate 0) or the
    # balancer does not send clients to it.
    if ((SECONDS >= deadline || SECONDS - grew >= 15)); then
      echo "cluster: tm-$i holds $mine of $total connections (share $share) after $((SECONDS - t0)) s; going on" >&2
      return 0
    fi
    sleep 0.5
  done
}

# Restarts every instance in turn; stops at the first that does not come back.
cmd_rolling_restart() {
  local i rc started=$SECONDS t0 port
  load_cluster
  lock_cluster
  for i in "${members[@]}"; do
    t0=$SECONDS
    port=$(instance_port "$i")
    [[ -n "$port" ]] || die "tm-$i has no recorded port"
    if instance_runs "$i"; then
      stop_instance "$i"
    else
      echo "cluster: tm-$i was not running; starting it" >&2
    fi
    launch_instance "$i" "$port"
    rc=0
    await_ready "$i" || rc=$?
    if ((rc != 0)); then
      write_env
      instance_failed "$i" "$([[ $rc == 1 ]] && echo exited || echo "was not ready (/health/ready) within ${start_timeout}s")"
      die "rolling restart stopped at tm-$i; the instances after it were not restarted"
    fi
    write_env
    if ! await_routed "$i"; then
      die "rolling restart stopped: nginx did not route to tm-$i within ${route_timeout}s (see $dir/nginx/error.log)"
    fi
    say "tm-$i restarted http://127.0.0.1:$port (pid $(instance_pid "$i")) in $((SECONDS - t0)) s"
    ((balance_timeout == 0)) || await_balanced "$i"
  done
  say "rolling restart of ${#members[@]} instances done in $((SECONDS - started)) s"
}

# True when Redis on port answers PING within timeout seconds.
redis_answers() {
  local port=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == "PONG" ]] && return 0
    sleep 0.1
  done
  return 1
}

# Stops Redis and starts it again on the same port (an empty Redis: no persistence, as at start).
cmd_restart_redis() {
  local port pid deadline down=${1:-0}
  [[ "$down" =~ ^[0-9]+$ ]] || die "restart-redis: seconds must be a whole number, not '$down'"
  load_cluster
  lock_cluster
  port=${redis_url##*:}
  port=${port%%/*}
  [[ "$port" =~ ^[0-9]+$ ]] || die "cannot read Redis' port from $redis_url"
  pid=$(cat "$dir/redis/redis.pid" 2>/dev/null || true)
  tm_redis_stop "$dir/redis"
  [[ -z "$pid" ]] || wait_gone "$pid" 10 || die "Redis (pid $pid) did not stop"
  say "Redis stopped (pid ${pid:--})"
  if ((down > 0)); then
    sleep "$down" # the drill's outage: Redis stays down this long
  fi
  # Each attempt gets 5 s to answer PING (a port still held by the old process fails the bind).
  deadline=$((SECONDS + start_timeout))
  while true; do
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --maxclients 20000 \
      >/dev/null 9>&- || true
    if redis_answers "$port" 5; then break; fi
    tm_redis_stop "$dir/redis" # whatever half started
    if ((SECONDS >= deadline)); then
      tail -n 10 "$dir/redis/redis.log" >&2 || true
      die "Redis did not start again on port $port"
    fi
  done
  write_env
  say "Redis      redis://127.0.0.1:$port (pid $(cat "$dir/redis/redis.pid")) started again"
}

cmd_restart_postgres() {
  load_cluster
  lock_cluster
  # Not with our lock on fd 9: the new postmaster would hold it as long as it lives, and every
  # later command would wait for it.
  tm_pg_restart "$dir/pg" 9>&- || die "PostgreSQL did not start again (see $dir/pg/postgres.log)"
  write_env
  say "PostgreSQL stopped at once and started again on its port"
}

# --- one instance's Redis link through a proxy (drills) -----------------------------------------------

proxy_pid() { cat "$dir/redis-proxy-$1.pid" 2>/dev/null || true; }
proxy_runs() { pid_has_text "$(proxy_pid "$1")" "tm-tcp-proxy --target"; }

find_proxy_bin() {
  local b=${TM_TCP_PROXY_BIN:-}
  if [[ -z "$b" ]]; then
    b=$root/build/tests/support/tm-tcp-proxy
    [[ -x "$b" ]] || b=$(find "$root/build" -type f -name tm-tcp-proxy -perm -u+x 2>/dev/null | head -n 1 || true)
  fi
  [[ -n "$b" && -x "$b" ]] || die "no tm-tcp-proxy (build the target tm-tcp-proxy or set TM_TCP_PROXY_BIN)"
  echo "$b"
}

# Waits until the proxy of instance i logged its n-th "link ..." line (it logs one per signal
# handled), up to 10 s.
await_link_lines() {
  local i=$1 n=$2 deadline=$((SECONDS + 10))
  while (($(grep -c '^link ' "$dir/redis-proxy-$i.log" 2>/dev/null || true) < n)); do
    ((SECONDS < deadline)) || die "the Redis proxy of tm-$i did not answer its signal"
    sleep 0.05
  done
}

# signal_proxy I SIGNAL: USR1 cuts tm-I's Redis link, USR2 restores it; returns once the proxy
# logged that it did (one more `link` line).
signal_proxy() {
  local i=$1 n
  n=$(grep -c '^link ' "$dir/redis-proxy-$i.log" || true)
  kill "-$2" "$(proxy_pid "$i")"
  await_link_lines "$i" $((n + 1))
}

cmd_proxy_redis() {
  # Not "bin": launch_instance (called below) reads the server binary from that name.
  local i=$1 proxy_bin rport pport pid deadline
  load_cluster
  check_index "$i"
  lock_cluster
  proxy_runs "$i" && die "tm-$i already reaches Redis through a proxy (pid $(proxy_pid "$i"))"
  proxy_bin=$(find_proxy_bin)
  rport=${redis_url##*:}
  rport=${rport%%/*}
  : >"$dir/redis-proxy-$i.log"
  nohup "$proxy_bin" --target "127.0.0.1:$rport" </dev/null >>"$dir/redis-proxy-$i.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$dir/redis-proxy-$i.pid"
  deadline=$((SECONDS + 10))
  until pport=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$dir/redis-proxy-$i.log") && [[ -n "$pport" ]]; do
    alive "$pid" || die "tm-tcp-proxy exited: $(cat "$dir/redis-proxy-$i.log")"
    ((SECONDS < deadline)) || die "tm-tcp-proxy did not listen within 10 s"
    sleep 0.05
  done
  # The instance's own arguments, with the proxy's Redis after them (the last --redis-url wins).
  echo "$(cat "$dir/tm-$i.args" 2>/dev/null || true) --redis-url redis://127.0.0.1:$pport" >"$dir/tm-$i.args"
  stop_instance "$i"
  restart_on_port "$i"
  routed_again "$i"
  say "tm-$i reaches Redis through tm-tcp-proxy 127.0.0.1:$pport (pid $pid)"
}

cmd_cut_redis() {
  local i=$1 down=${2:-0}
  [[ "$down" =~ ^[0-9]+$ ]] || die "cut-redis: seconds must be a whole number, not '$down'"
  load_cluster
  check_index "$i"
  proxy_runs "$i" || die "tm-$i has no Redis proxy (cluster.sh proxy-redis $i first)"
  signal_proxy "$i" USR1
  say "tm-$i cut off Redis"
  if ((down > 0)); then
    sleep "$down" # the drill's outage: the link stays cut this long
    signal_proxy "$i" USR2
    say "tm-$i reaches Redis again"
  fi
}

cmd_restore_redis() {
  local i=$1
  load_cluster
  check_index "$i"
  proxy_runs "$i" || die "tm-$i has no Redis proxy"
  signal_proxy "$i" USR2
  say "tm-$i reaches Redis again"
}

stop_proxies() {
  local f pid
  for f in "$dir"/redis-proxy-*.pid; do
    [[ -e "$f" ]] || continue
    pid=$(cat "$f")
    pid_has_text "$pid" "tm-tcp-proxy --target" || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
  done
}

# --- everything ------------------------------------------------------------------------------------

stop_nginx() {
  local pid
  pid=$(nginx_pid)
  pid_has_text "$pid" "$dir/nginx/nginx.conf" || return 0
  kill -TERM "$pid" 2>/dev/null || true # fast shutdown: WebSocket tunnels would hold a graceful one
  if ! wait_gone "$pid" 10; then
    pkill -KILL -P "$pid" 2>/dev/null || true # its workers, by parent pid
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || true
  fi
}

# Stops whatever runs from dir (also after a start that failed half way), then removes dir unless
# TM_CLUSTER_KEEP=1.
stop_all() {
  local i pid pids=() deadline
  [[ -f "$dir/$marker" ]] || die "$dir is not a cluster directory (no $marker)"
  # Instances first, all at once: SIGTERM lets each drain, SIGKILL whatever is left at the deadline.
  for f in "$dir"/tm-*.pid; do
    [[ -e "$f" ]] || continue
    i=${f##*/tm-}
    i=${i%.pid}
    if instance_runs "$i"; then
      pid=$(instance_pid "$i")
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  deadline=$((SECONDS + stop_timeout))
  for pid in "${pids[@]}"; do
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      echo "cluster: pid $pid did not exit ${stop_timeout}s after SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || true
    fi
  done
  stop_nginx
  stop_monitoring
  stop_proxies
  tm_redis_stop "$dir/redis" || true
  tm_pg_stop "$dir/pg-replica" || true # before its primary
  tm_pg_stop "$dir/pg" || true
  if [[ "${TM_CLUSTER_KEEP:-0}" == 1 ]]; then
    rm -f "$dir/cluster.env"
    say "stopped; kept $dir"
  else
    rm -rf "$dir"
    say "stopped; removed $dir"
  fi
}

# Writes nginx's configuration for the instances in the pool (DIR/nginx: nginx.conf, taskmaster.conf).
render_nginx() {
  local upstreams=() i
  local tls=()
  for i in "${members[@]}"; do upstreams+=(--upstream "127.0.0.1:$(instance_port "$i")"); done
  [[ -z "$tls_port" ]] || tls=(--tls-listen "127.0.0.1:$tls_port" --tls-cert "$dir/nginx/tls/cert.pem"
    --tls-key "$dir/nginx/tls/key.pem")
  local own=()
  # The extra arguments of start, kept for the re-renders of later commands (reloads).
  mkdir -p "$dir/nginx"
  if [[ ! -f "$dir/nginx/render.args" ]]; then echo "${TM_CLUSTER_NGINX_ARGS:-}" >"$dir/nginx/render.args"; fi
  read -r -a own <"$dir/nginx/render.args" || true
  "$root/packaging/nginx/render-conf.sh" --standalone "$dir/nginx" --listen "127.0.0.1:$nginx_port" \
    --workers "${TM_CLUSTER_NGINX_WORKERS:-2}" --worker-connections "${TM_CLUSTER_NGINX_CONNECTIONS:-10240}" \
    "${tls[@]}" "${upstreams[@]}" "${own[@]}"
}

# A self-signed certificate for 127.0.0.1 and localhost (P-256, a week), for the TLS listener.
make_tls_pair() {
  mkdir -p "$dir/nginx/tls"
  command -v openssl >/dev/null || die "TM_CLUSTER_TLS=1 needs openssl (scripts/setup.sh installs it)"
  if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/nginx/tls/key.pem" -out "$dir/nginx/tls/cert.pem" >"$dir/nginx/tls/openssl.log" 2>&1; then
    cat "$dir/nginx/tls/openssl.log" >&2
    die "openssl could not make a certificate"
  fi
  chmod 600 "$dir/nginx/tls/key.pem"
}

# Runs nginx with the rendered configuration of dir (it binds, then turns into a daemon).
launch_nginx() {
  # Without fd 9 (restart-nginx holds the cluster's lock on it): the daemon would keep it.
  "$(find_nginx)" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" \
    </dev/null >>"$dir/nginx/nginx.out" 2>&1 9>&-
}

# Waits until nginx answers /health through an instance (start_timeout); 1 with its error log's
# end when it died or did not answer in time.
await_nginx() {
  local deadline pid
  deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    pid=$(nginx_pid)
    if [[ -n "$pid" ]] && ! alive "$pid"; then break; fi
    # Through the proxy: nginx runs and reaches an instance.
    [[ -n "$pid" ]] && http_ok "http://127.0.0.1:$nginx_port/health" && return 0
    sleep 0.1
  done
  echo "cluster: nginx on port $nginx_port does not answer /health; end of its error log:" >&2
  tail -n 20 "$dir/nginx/error.log" >&2 || true
  return 1
}

start_nginx() {
  for _ in 1 2 3 4 5; do
    nginx_port=$(tm_free_port)
    if [[ "$want_tls" == 1 ]]; then tls_port=$(tm_free_port); fi
    render_nginx
    # nginx binds before it turns into a daemon: a taken port fails here, and we try another.
    if launch_nginx; then
      break
    fi
    nginx_port=""
  done
  if [[ -z "$nginx_port" ]]; then
    echo "cluster: nginx did not start; end of its output and error log:" >&2
    tail -n 10 "$dir/nginx/nginx.out" "$dir/nginx/error.log" >&2 || true
    return 1
  fi
  await_nginx
}

# --- monitoring (TM_CLUSTER_MONITORING=1) -----------------------------------------------------------

# Starts a background process that listens on a free loopback port: the command line is built by
# the function named in $1 from the port; waits for url_path on it. Records DIR/prometheus/NAME.pid
# and .port. 0: up; 1: failed (the end of its log printed).
start_listener() {
  local name=$1 build=$2 path=$3 port pid deadline cmd=()
  for _ in 1 2 3 4 5; do
    port=$(tm_free_port)
    "$build" "$port"
    nohup "${cmd[@]}" </dev/null >>"$dir/prometheus/$name.log" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$dir/prometheus/$name.pid"
    echo "$port" >"$dir/prometheus/$name.port"
    deadline=$((SECONDS + start_timeout))
    while ((SECONDS < deadline)) && alive "$pid"; do
      http_ok "http://127.0.0.1:$port$path" && return 0
      sleep 0.1
    done
    alive "$pid" || continue # the port was taken meanwhile: another one
    break
  done
  echo "cluster: $name did not answer on 127.0.0.1:$port$path; end of its log:" >&2
  tail -n 20 "$dir/prometheus/$name.log" >&2 || true
  return 1
}

exporter_command() {
  cmd=(prometheus-nginx-exporter -nginx.scrape-uri "http://127.0.0.1:$nginx_port/nginx_status"
    -web.listen-address "127.0.0.1:$1")
}

prometheus_command() {
  cmd=(prometheus --config.file "$dir/prometheus/prometheus.yml" --storage.tsdb.path "$dir/prometheus/data"
    --storage.tsdb.retention.time 1d --web.listen-address "127.0.0.1:$1" --log.level warn)
}

# The exporter and a Prometheus running monitoring/prometheus/ against this cluster: its config and
# rules copied to DIR/prometheus (the file_sd lists there are the cluster's), the intervals
# shortened to TM_CLUSTER_SCRAPE_INTERVAL.
start_monitoring() {
  local interval=${TM_CLUSTER_SCRAPE_INTERVAL:-5s} src=$root/monitoring/prometheus
  if ! command -v prometheus >/dev/null || ! command -v prometheus-nginx-exporter >/dev/null; then
    die "TM_CLUSTER_MONITORING=1 needs prometheus and prometheus-nginx-exporter (scripts/setup.sh installs them)"
  fi
  [[ "$interval" =~ ^[0-9]+s$ ]] || die "TM_CLUSTER_SCRAPE_INTERVAL must be like 5s, got '$interval'"
  mkdir -p "$dir/prometheus/rules"
  cp "$src/rules/taskmaster-alerts.yml" "$dir/prometheus/rules/"
  sed -E -e "s/^(  scrape_interval|  evaluation_interval|  scrape_timeout): .*/\1: $interval/" \
    "$src/prometheus.yml" >"$dir/prometheus/prometheus.yml"
  grep -q "^  scrape_interval: $interval\$" "$dir/prometheus/prometheus.yml" ||
    die "could not set the scrape interval in $dir/prometheus/prometheus.yml"
  start_listener nginx-exporter exporter_command /metrics || return 1
  write_targets
  start_listener prometheus prometheus_command /-/ready || return 1
  say "nginx exporter http://127.0.0.1:$(cat "$dir/prometheus/nginx-exporter.port") (pid $(exporter_pid))"
  say "Prometheus http://127.0.0.1:$(cat "$dir/prometheus/prometheus.port") (pid $(prometheus_pid)), scraping every $interval"
}

stop_monitoring() {
  local name pid
  for name in prometheus nginx-exporter; do
    pid=$(cat "$dir/prometheus/$name.pid" 2>/dev/null || true)
    # Ours: its command line names the port we gave it.
    pid_has_text "$pid" "127.0.0.1:$(cat "$dir/prometheus/$name.port" 2>/dev/null)" || continue
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 10; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 5 || true
    fi
  done
}

cmd_start() {
  local i rc started=$SECONDS
  n=${TM_CLUSTER_INSTANCES:-3}
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]] || ((n > 64)); then die "TM_CLUSTER_INSTANCES must be 1..64, got '$n'"; fi
  bin=$(find_server_bin)
  find_nginx >/dev/null
  read -r -a extra_args <<<"${TM_CLUSTER_SERVER_ARGS:-}"
  case ${TM_CLUSTER_REPLICA:-0} in
  0 | 1) ;;
  *) die "TM_CLUSTER_REPLICA must be 0 or 1, got '$TM_CLUSTER_REPLICA'" ;;
  esac
  monitoring=${TM_CLUSTER_MONITORING:-0}
  case $monitoring in
  0 | 1) ;;
  *) die "TM_CLUSTER_MONITORING must be 0 or 1, got '$monitoring'" ;;
  esac
  want_tls=${TM_CLUSTER_TLS:-0} tls_port=""
  case $want_tls in
  0 | 1) ;;
  *) die "TM_CLUSTER_TLS must be 0 or 1, got '$want_tls'" ;;
  esac
  # The instances get the replica as an argument (below), never from an environment we inherited.
  unset TM_DATABASE_REPLICA_URL
  replica_url=""
  if [[ -n "${TM_CLUSTER_DIR:-}" ]]; then
    dir=$TM_CLUSTER_DIR
    mkdir -p "$dir"
    [[ ! -e "$dir/cluster.env" ]] || die "a cluster already runs in $dir ('cluster.sh stop' first)"
  else
    dir=$(mktemp -d /tmp/tm-cluster.XXXXXX)
  fi
  dir=$(cd "$dir" && pwd)
  # PostgreSQL runs as 'postgres' when we are root: it must be able to reach pg/ below.
  chmod 755 "$dir"
  touch "$dir/$marker"
  say "directory $dir"

  # A start that fails half way stops what it started.
  # shellcheck disable=SC2034 # read by the trap
  start_ok=0
  trap 'if ((start_ok == 0)); then echo "cluster: start failed; stopping what was started" >&2; stop_all >&2; fi' EXIT
  trap 'exit 130' INT TERM

  tm_pg_start "$dir/pg" >/dev/null
  db_url=$TM_PG_URL
  say "PostgreSQL $db_url (pid $(head -n 1 "$dir/pg/data/postmaster.pid"))"
  if [[ "${TM_CLUSTER_REPLICA:-0}" == 1 ]]; then
    tm_pg_replica_start "$dir/pg" "$dir/pg-replica"
    replica_url=$TM_PG_REPLICA_URL
    say "PG replica $replica_url (pid $(replica_pid)), a hot standby streaming from PostgreSQL"
  fi
  tm_redis_start "$dir/redis"
  redis_url=$TM_REDIS_URL
  say "Redis      $redis_url (pid $(cat "$dir/redis/redis.pid"))"

  # All instances at once (migrations take a PostgreSQL advisory lock, so only one runs them).
  members=()
  for ((i = 1; i <= n; i++)); do members+=("$i"); done
  for i in "${members[@]}"; do launch_instance "$i" "$(tm_free_port)"; done
  for i in "${members[@]}"; do
    rc=0
    await_instance "$i" || rc=$?
    # Another process may have taken the port between tm_free_port and the bind: try other ports.
    for _ in 1 2 3 4; do
      if ((rc != 1)) || ! tail -n 5 "$dir/tm-$i.log" | grep -q 'cannot listen'; then break; fi
      launch_instance "$i" "$(tm_free_port)"
      rc=0
      await_instance "$i" || rc=$?
    done
    if ((rc != 0)); then
      instance_failed "$i" "$([[ $rc == 1 ]] && echo exited || echo "did not answer /health within ${start_timeout}s")"
      return 1
    fi
    say "tm-$i       http://127.0.0.1:$(instance_port "$i") (pid $(instance_pid "$i"))"
  done

  if [[ "$want_tls" == 1 ]]; then make_tls_pair; fi
  start_nginx
  say "nginx      http://127.0.0.1:$nginx_port (pid $(nginx_pid)), ws://127.0.0.1:$nginx_port/ws"
  [[ -z "$tls_port" ]] || say "nginx TLS  https://127.0.0.1:$tls_port (HTTP/2), wss://127.0.0.1:$tls_port/ws; self-signed: $dir/nginx/tls/cert.pem"
  if [[ "$monitoring" == 1 ]]; then start_monitoring; fi
  write_env
  # shellcheck disable=SC2034 # read by the trap
  start_ok=1
  say "ready in $((SECONDS - started)) s; environment: $dir/cluster.env"
  say "stop with: TM_CLUSTER_DIR=$dir $0 stop"
}

cmd_stop() {
  dir=${TM_CLUSTER_DIR:-}
  [[ -n "$dir" ]] || die "TM_CLUSTER_DIR is not set"
  [[ -d "$dir" ]] || die "no directory $dir"
  dir=$(cd "$dir" && pwd)
  stop_all
}

cmd_status() {
  local i pid port all=0 state
  dir=${TM_CLUSTER_DIR:-}
  if [[ -z "$dir" || ! -f "$dir/cluster.env" ]]; then
    say "no cluster (TM_CLUSTER_DIR='${dir}')"
    exit 3
  fi
  load_cluster
  say "directory $dir"
  pid=$(head -n 1 "$dir/pg/data/postmaster.pid" 2>/dev/null || true)
  if alive "$pid"; then state=up; else state=DOWN all=1; fi
  say "PostgreSQL $db_url pid ${pid:--} $state"
  if [[ -n "$replica_url" ]]; then
    pid=$(replica_pid)
    if ! alive "$pid"; then
      state=DOWN all=1
    elif [[ "$(PGCONNECT_TIMEOUT=2 "$TM_PG_BIN/psql" -XAtq "$replica_url" -c "SELECT pg_is_in_recovery()" 2>/dev/null)" == t ]]; then
      state=up
    else
      state="running, not answering as a standby" all=1
    fi
    say "PG replica $replica_url pid ${pid:--} $state"
  fi
  pid=$(cat "$dir/redis/redis.pid" 2>/dev/null || true)
  if alive "$pid"; then state=up; else state=DOWN all=1; fi
  say "Redis      $redis_url pid ${pid:--} $state"
  for i in "${members[@]}"; do
    pid=$(instance_pid "$i")
    port=$(instance_port "$i")
    if ! instance_runs "$i"; then
      state=DOWN all=1
    elif http_ok "http://127.0.0.1:$port/health"; then
      state=up
    else
      state="running, /health not answering" all=1
    fi
    say "tm-$i       http://127.0.0.1:$port pid ${pid:--} $state"
  done
  pid=$(nginx_pid)
  if ! pid_has_text "$pid" "$dir/nginx/nginx.conf"; then
    state=DOWN all=1
  elif http_ok "http://127.0.0.1:$nginx_port/health"; then
    state=up
  else
    state="running, /health not answering" all=1
  fi
  say "nginx      http://127.0.0.1:$nginx_port pid ${pid:--} $state"
  if [[ "$monitoring" == 1 ]]; then
    pid=$(exporter_pid)
    if ! alive "$pid"; then state=DOWN all=1; elif http_ok "$TM_NGINX_EXPORTER_URL/metrics"; then state=up; else state="running, not answering" all=1; fi
    say "nginx exporter $TM_NGINX_EXPORTER_URL pid ${pid:--} $state"
    pid=$(prometheus_pid)
    if ! alive "$pid"; then state=DOWN all=1; elif http_ok "$TM_PROMETHEUS_URL/-/ready"; then state=up; else state="running, not ready" all=1; fi
    say "Prometheus $TM_PROMETHEUS_URL pid ${pid:--} $state"
  fi
  return $all
}

cmd_restart_instance() {
  load_cluster
  check_index "${1:-}"
  lock_cluster
  stop_instance "$1"
  restart_on_port "$1"
  routed_again "$1"
}

# After a (re)start: nginx may still hold the instance out of rotation (max_fails/fail_timeout
# after it was down); wait until it routes to it again, so that the next command or load starts
# from a cluster that balances over every instance.
routed_again() {
  [[ -n "$(nginx_pid)" ]] || return 0
  await_routed "$1" || die "nginx did not route to tm-$1 within ${route_timeout}s (see $dir/nginx/error.log)"
}

cmd_start_instance() {
  load_cluster
  check_index "${1:-}"
  lock_cluster
  if instance_runs "$1"; then
    say "tm-$1 already runs (pid $(instance_pid "$1"))"
    return 0
  fi
  restart_on_port "$1"
  routed_again "$1"
}

cmd_kill_instance() {
  local pid
  load_cluster
  check_index "${1:-}"
  lock_cluster
  pid=$(instance_pid "$1")
  instance_runs "$1" || die "tm-$1 does not run"
  kill -KILL "$pid"
  wait_gone "$pid" 10 || die "tm-$1 (pid $pid) is still there after SIGKILL"
  write_env
  say "tm-$1 killed (pid $pid)"
}

# --- scaling out and in ------------------------------------------------------------------------------

# nginx worker processes of the running master (children), as "pid state" lines: state is "new"
# for a worker serving the current configuration, "old" for one finishing its connections after
# a reload ("nginx: worker process is shutting down").
nginx_workers() {
  local master=$1 pid title
  for pid in $(pgrep -P "$master" 2>/dev/null || true); do
    title=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    case $title in
    *"worker process is shutting down"*) echo "$pid old" ;;
    *"worker process"*) echo "$pid new" ;;
    esac
  done
}

# Renders nginx's configuration for the current pool and reloads nginx: the master starts workers
# with the new configuration and lets the old ones finish what they hold (a proxied WebSocket stays
# open until one side closes it), so no connection is dropped. Returns once every worker that takes
# new connections runs the new configuration. A configuration nginx refuses is put back.
reload_nginx() {
  local nginx master before deadline conf=$dir/nginx/taskmaster.conf
  nginx=$(find_nginx)
  master=$(nginx_pid)
  pid_has_text "$master" "$dir/nginx/nginx.conf" || die "nginx does not run"
  cp "$conf" "$conf.prev"
  render_nginx
  if ! "$nginx" -t -q -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" >>"$dir/nginx/nginx.out" 2>&1; then
    mv "$conf.prev" "$conf"
    tail -n 5 "$dir/nginx/nginx.out" >&2 || true
    die "nginx refused the new configuration; the old one is back in place"
  fi
  before=$(nginx_workers "$master" | awk '$2 == "new" { print $1 }')
  kill -HUP "$master"
  # Done when no worker of before still takes connections and new ones run.
  deadline=$((SECONDS + start_timeout))
  while ((SECONDS < deadline)); do
    local current fresh=0 stale=0 pid state
    current=$(nginx_workers "$master")
    while read -r pid state; do
      [[ -n "$pid" ]] || continue
      if grep -qxF "$pid" <<<"$before"; then
        [[ "$state" == old ]] || stale=$((stale + 1))
      elif [[ "$state" == new ]]; then
        fresh=$((fresh + 1))
      fi
    done <<<"$current"
    if ((fresh > 0 && stale == 0)); then
      rm -f "$conf.prev"
      return 0
    fi
    sleep 0.1
  done
  tail -n 10 "$dir/nginx/error.log" >&2 || true
  die "nginx did not reload within ${start_timeout}s"
}

# The next instance number: one above every number used so far in this cluster (removed ones too,
# so that a number always names one instance and its log).
next_index() {
  local f i max=0
  for f in "$dir"/tm-*.log; do
    [[ -e "$f" ]] || continue
    i=${f##*/tm-}
    i=${i%.log}
    [[ "$i" =~ ^[0-9]+$ ]] && ((i > max)) && max=$i
  done
  echo $((max + 1))
}

cmd_add_instance() {
  local i rc started=$SECONDS
  load_cluster
  lock_cluster
  ((${#members[@]} < 64)) || die "the cluster has 64 instances already"
  i=$(next_index)
  launch_instance "$i" "$(tm_free_port)"
  rc=0
  await_ready "$i" || rc=$?
  # Another process may have taken the port between tm_free_port and the bind: try other ports.
  for _ in 1 2 3 4; do
    if ((rc != 1)) || ! tail -n 5 "$dir/tm-$i.log" | grep -q 'cannot listen'; then break; fi
    launch_instance "$i" "$(tm_free_port)"
    rc=0
    await_ready "$i" || rc=$?
  done
  if ((rc != 0)); then
    instance_failed "$i" "$([[ $rc == 1 ]] && echo exited || echo "was not ready (/health/ready) within ${start_timeout}s")"
    stop_instance "$i"
    rm -f "$dir/tm-$i.pid" "$dir/tm-$i.port"
    die "tm-$i was not added"
  fi
  members+=("$i")
  reload_nginx
  write_env
  await_routed "$i" || die "nginx did not route to tm-$i within ${route_timeout}s (see $dir/nginx/error.log)"
  say "tm-$i added http://127.0.0.1:$(instance_port "$i") (pid $(instance_pid "$i")) in $((SECONDS - started)) s; pool: ${members[*]}"
}

cmd_remove_instance() {
  local i=$1 m kept=() started=$SECONDS pid
  load_cluster
  check_index "$i"
  lock_cluster
  ((${#members[@]} > 1)) || die "tm-$i is the last instance"
  for m in "${members[@]}"; do [[ "$m" == "$i" ]] || kept+=("$m"); done
  members=("${kept[@]}")
  # Out of the upstream first: from here on nginx sends nothing new to it...
  reload_nginx
  write_env
  # ...then it drains: its sockets get `reconnect` and come back through nginx to the others.
  pid=$(instance_pid "$i")
  stop_instance "$i"
  rm -f "$dir/tm-$i.pid" "$dir/tm-$i.port"
  say "tm-$i removed (pid ${pid:--}, drained) in $((SECONDS - started)) s; pool: ${members[*]}"
}

# Stops nginx (fast shutdown: every client connection drops at once) and starts it again with the
# same configuration and port; waits until it answers /health through an instance.
cmd_restart_nginx() {
  load_cluster
  lock_cluster
  stop_nginx
  launch_nginx || die "nginx did not start again on port $nginx_port (see $dir/nginx/nginx.out)"
  await_nginx || die "nginx on port $nginx_port does not answer /health after its restart"
  write_env
  say "nginx      http://127.0.0.1:$nginx_port (pid $(nginx_pid)) started again"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart-instance) cmd_restart_instance "${2:-}" ;;
start-instance) cmd_start_instance "${2:-}" ;;
kill-instance) cmd_kill_instance "${2:-}" ;;
rolling-restart) cmd_rolling_restart ;;
restart-redis) cmd_restart_redis "${2:-0}" ;;
restart-postgres) cmd_restart_postgres ;;
restart-nginx) cmd_restart_nginx ;;
proxy-redis) cmd_proxy_redis "${2:-}" ;;
cut-redis) cmd_cut_redis "${2:-}" "${3:-0}" ;;
restore-redis) cmd_restore_redis "${2:-}" ;;
add-instance) cmd_add_instance ;;
remove-instance) cmd_remove_instance "${2:-}" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
