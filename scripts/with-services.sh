#!/usr/bin/env bash
# with-services.sh COMMAND [ARGS...]
# Starts a real PostgreSQL (with a streaming hot-standby replica of it) and a real Redis on loopback
# (temporary directories, free ports), runs COMMAND with TM_TEST_DATABASE_URL,
# TM_TEST_DATABASE_REPLICA_URL and TM_TEST_REDIS_URL set, then stops both and removes their
# directories, also when COMMAND fails or the script is interrupted. Exits with COMMAND's status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The test suite runs PostgreSQL with the fast settings (fsync, synchronous_commit and
# full_page_writes off: correctness does not depend on them, and the suite's time does); the
# clusters its tests start inherit them. A test that needs durability (the PostgreSQL crash
# drill) sets TM_PG_DURABLE=1 itself. Benchmarks keep the durable default (scripts/bench.sh).
export TM_PG_DURABLE=${TM_PG_DURABLE:-0}
# shellcheck source=services.sh
source "$here/services.sh"

work=$(mktemp -d /tmp/tm-services.XXXXXX)
chmod 755 "$work"
cleanup() {
  tm_redis_stop "$work/redis" || true
  tm_pg_stop "$work/pg-replica" || true
  tm_pg_stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
child=""
# On INT/TERM: pass the signal to the command, wait for it, then clean up (EXIT trap).
trap '[[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null; [[ -n "$child" ]] && wait "$child"; exit 130' INT TERM

tm_pg_start "$work/pg"
tm_pg_replica_start "$work/pg" "$work/pg-replica"
tm_redis_start "$work/redis"
export TM_TEST_DATABASE_URL=$TM_PG_URL
export TM_TEST_DATABASE_REPLICA_URL=$TM_PG_REPLICA_URL
export TM_TEST_REDIS_URL=$TM_REDIS_URL
# TM_REDIS_URL is also the server's own option: servers started by the command must not pick it
# up by accident (a test asks for Redis explicitly).
export -n TM_REDIS_URL
export TM_TEST_REQUIRE_SERVICES=1
echo "services: PostgreSQL $TM_TEST_DATABASE_URL, Redis $TM_TEST_REDIS_URL"
set +e
"$@" &
child=$!
wait "$child"
status=$?
set -e
exit $status
