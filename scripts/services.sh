# shellcheck shell=bash
# Functions to start and stop real PostgreSQL and Redis servers on loopback, each in its own
# temporary directory on a free port. Sourced by with-services.sh and the cluster script.
#   tm_pg_start DIR      -> sets TM_PG_PORT, TM_PG_URL (superuser "tm", database "taskmaster").
#                           Durable as in production (fsync, synchronous_commit, full_page_writes
#                           on), so benchmarks and drills measure what production runs, unless
#                           TM_PG_DURABLE=0: then fast and not crash-safe (all three off), the
#                           switch the test suite uses (with-services.sh)
#   tm_pg_restart DIR    -> stops that PostgreSQL at once (immediate: a crash, recovery from WAL
#                           at the start) and starts it again on its port with its options
#   tm_pg_stop DIR
#   tm_pg_replica_start PRIMARY_DIR REPLICA_DIR
#                        -> a hot-standby streaming replica of the PostgreSQL that tm_pg_start
#                           runs in PRIMARY_DIR, in REPLICA_DIR/data on its own free port; sets
#                           TM_PG_REPLICA_PORT, TM_PG_REPLICA_URL (user and database of TM_PG_URL).
#                           Stop it with tm_pg_stop REPLICA_DIR (before the primary).
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
  local dir=$1 attempt durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  if [[ "${TM_PG_DURABLE:-1}" == 0 ]]; then
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  tm_as_pg "$TM_PG_BIN/initdb" -D "$dir/data" -U tm -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  for attempt in 1 2 3 4 5; do
    TM_PG_PORT=$(tm_free_port)
    if tm_as_pg "$TM_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
      -o "-p $TM_PG_PORT -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=300" \
      >/dev/null 2>&1; then
      # What tm_pg_restart starts it with again.
      echo "-p $TM_PG_PORT -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=300" >"$dir/start-options"
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

tm_pg_restart() {
  local dir=$1 opts
  opts=$(cat "$dir/start-options") || return 1
  tm_pg_stop "$dir"
  # A port still held by the old postmaster's last moments fails the bind: try a few times.
  for _ in 1 2 3 4 5; do
    if tm_as_pg "$TM_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o "$opts" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "services: PostgreSQL did not start again; log:" >&2
  tail -n 20 "$dir/postgres.log" >&2
  return 1
}

tm_pg_stop() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  tm_as_pg "$TM_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

# Runs one SQL statement as "tm" on database "taskmaster" of the PostgreSQL on 127.0.0.1:port and
# prints the result unaligned, without headers.
tm_pg_sql() {
  PGCONNECT_TIMEOUT=5 "$TM_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U tm -d taskmaster -c "$2"
}

tm_pg_replica_start() {
  local pdir=$1 rdir=$2 pport wal_level senders method opts slot deadline
  pport=$(sed -n 4p "$pdir/data/postmaster.pid" 2>/dev/null || true)
  if ! [[ "$pport" =~ ^[0-9]+$ ]] || ! tm_pg_sql "$pport" "SELECT 1" >/dev/null 2>&1; then
    echo "services: no PostgreSQL answers in $pdir (tm_pg_start it first)" >&2
    return 1
  fi
  # The primary must stream WAL: wal_level replica (PG 15's default) and WAL senders, two of them
  # while pg_basebackup -X stream runs (one copies the files, one streams the WAL).
  wal_level=$(tm_pg_sql "$pport" "SHOW wal_level") || return 1
  senders=$(tm_pg_sql "$pport" "SHOW max_wal_senders") || return 1
  if [[ "$wal_level" == minimal ]] || ! ((senders >= 2)); then
    echo "services: the PostgreSQL in $pdir cannot stream WAL (wal_level=$wal_level, max_wal_senders=$senders)" >&2
    return 1
  fi
  # Replication connections match only "replication" lines of pg_hba.conf, not "all". initdb wrote
  # one for 127.0.0.1; when it is missing, add one with the method the primary's other 127.0.0.1
  # line uses (trust, from tm_pg_start) and reload.
  if [[ -z "$(tm_pg_sql "$pport" "SELECT 1 FROM pg_hba_file_rules WHERE type = 'host' AND 'replication' = ANY(database) AND address = '127.0.0.1' AND error IS NULL LIMIT 1")" ]]; then
    method=$(tm_pg_sql "$pport" "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND 'all' = ANY(database) AND address = '127.0.0.1' AND error IS NULL ORDER BY line_number LIMIT 1") || return 1
    echo "host    replication     all             127.0.0.1/32            ${method:-trust}" |
      tm_as_pg tee -a "$pdir/data/pg_hba.conf" >/dev/null
    tm_pg_sql "$pport" "SELECT pg_reload_conf()" >/dev/null || return 1
  fi
  deadline=$((SECONDS + 30))
  until PGCONNECT_TIMEOUT=5 "$TM_PG_BIN/psql" -XAtq "host=127.0.0.1 port=$pport user=tm replication=true" \
    -c IDENTIFY_SYSTEM >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "services: the PostgreSQL in $pdir refuses replication connections from 127.0.0.1" >&2
      return 1
    fi
    sleep 0.1
  done
  # A hot standby refuses to start with fewer of these than the primary has (max_connections is
  # given on the primary's command line, which pg_basebackup does not copy).
  opts=$(tm_pg_sql "$pport" "SELECT string_agg('-c ' || name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
    WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')") || return 1

  mkdir -p "$rdir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$rdir"; fi
  if [[ -e "$rdir/data" ]]; then
    echo "services: $rdir/data exists already" >&2
    return 1
  fi
  # -R writes standby.signal and primary_conninfo; -C -S a replication slot on the primary, so it
  # keeps the WAL the replica has not received yet however far behind it falls; a fast checkpoint
  # starts the copy at once instead of after a spread one.
  slot=tm_replica_${pport}_$RANDOM
  if ! tm_as_pg "$TM_PG_BIN/pg_basebackup" -D "$rdir/data" -R -X stream -C -S "$slot" --checkpoint=fast \
    --no-sync -h 127.0.0.1 -p "$pport" -U tm >"$rdir/basebackup.log" 2>&1; then
    echo "services: pg_basebackup of the PostgreSQL in $pdir failed; log:" >&2
    tail -n 20 "$rdir/basebackup.log" >&2
    return 1
  fi
  for _ in 1 2 3 4 5; do
    TM_PG_REPLICA_PORT=$(tm_free_port)
    if tm_as_pg "$TM_PG_BIN/pg_ctl" -D "$rdir/data" -l "$rdir/postgres.log" -w -t 60 start \
      -o "-p $TM_PG_REPLICA_PORT -k $rdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c hot_standby=on -c hot_standby_feedback=on $opts" \
      >/dev/null 2>&1; then
      break
    fi
    tm_pg_stop "$rdir" # whatever half started
    TM_PG_REPLICA_PORT=""
  done
  if [[ -z "$TM_PG_REPLICA_PORT" ]]; then
    echo "services: the PostgreSQL replica did not start; log:" >&2
    tail -n 20 "$rdir/postgres.log" >&2
    return 1
  fi
  # Up: it answers, is a standby, and its WAL receiver streams from the primary.
  deadline=$((SECONDS + 60))
  until [[ "$(tm_pg_sql "$TM_PG_REPLICA_PORT" "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')" 2>/dev/null)" == t ]]; do
    if ((SECONDS >= deadline)); then
      echo "services: the PostgreSQL replica on port $TM_PG_REPLICA_PORT does not stream from the primary; log:" >&2
      tail -n 20 "$rdir/postgres.log" >&2
      tm_pg_stop "$rdir"
      return 1
    fi
    sleep 0.1
  done
  # TM_PG_URL with the replica's port: same user, password, database.
  if [[ "${TM_PG_URL:-}" == *"@127.0.0.1:$pport/"* ]]; then
    TM_PG_REPLICA_URL="${TM_PG_URL%%@127.0.0.1:"$pport"/*}@127.0.0.1:$TM_PG_REPLICA_PORT/${TM_PG_URL#*@127.0.0.1:"$pport"/}"
  else
    TM_PG_REPLICA_URL="postgres://tm@127.0.0.1:$TM_PG_REPLICA_PORT/taskmaster"
  fi
  export TM_PG_REPLICA_PORT TM_PG_REPLICA_URL
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
