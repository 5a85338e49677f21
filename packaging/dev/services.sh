# shellcheck shell=bash
# Functions to start and stop real PostgreSQL and Redis servers on loopback, each in its own
# temporary directory on a free port. Sourced by with-services.sh and the cluster script.
#   tm_pg_start DIR      -> sets TM_PG_PORT, TM_PG_URL (superuser "tm", database "taskmaster")
#   tm_pg_stop DIR
#   tm_redis_start DIR   -> sets TM_REDIS_PORT, TM_REDIS_URL
#   tm_redis_stop DIR
#   tm_free_port         -> prints a TCP port nobody listens on, on 127.0.0.1

TM_PG_BIN=${TM_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

tm_free_port() {
  local p tries=0
  while ((tries++ < 200)); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "services: no free port found" >&2
  return 1
}

# Runs a command as the owner of the PostgreSQL files: the 'postgres' user when we are root
# (PostgreSQL refuses to run as root), ourselves otherwise.
tm_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

tm_pg_start() {
  local dir=$1 attempt
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  tm_as_pg "$TM_PG_BIN/initdb" -D "$dir/data" -U tm -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  for attempt in 1 2 3 4 5; do
    TM_PG_PORT=$(tm_free_port)
    if tm_as_pg "$TM_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
      -o "-p $TM_PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null 2>&1; then
      break
    fi
    TM_PG_PORT=""
  done
  if [[ -z "$TM_PG_PORT" ]]; then
    echo "services: PostgreSQL did not start; log:" >&2
    tail -n 20 "$dir/postgres.log" >&2
    return 1
  fi
  tm_as_pg "$TM_PG_BIN/createdb" -h 127.0.0.1 -p "$TM_PG_PORT" -U tm taskmaster
  TM_PG_URL="postgres://tm@127.0.0.1:$TM_PG_PORT/taskmaster"
  export TM_PG_PORT TM_PG_URL
}

tm_pg_stop() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  tm_as_pg "$TM_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

tm_redis_start() {
  local dir=$1 attempt deadline
  mkdir -p "$dir"
  for attempt in 1 2 3 4 5; do
    TM_REDIS_PORT=$(tm_free_port)
    redis-server --port "$TM_REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --maxclients 20000 >/dev/null
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
      if [[ $(redis-cli -h 127.0.0.1 -p "$TM_REDIS_PORT" ping 2>/dev/null) == "PONG" ]]; then
        TM_REDIS_URL="redis://127.0.0.1:$TM_REDIS_PORT"
        export TM_REDIS_PORT TM_REDIS_URL
        return 0
      fi
      sleep 0.1
    done
    tm_redis_stop "$dir"
  done
  echo "services: Redis did not start; log:" >&2
  tail -n 20 "$dir/redis.log" >&2
  return 1
}

tm_redis_stop() {
  local dir=$1 pid
  [[ -f "$dir/redis.pid" ]] || return 0
  pid=$(cat "$dir/redis.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/redis.pid"
}
