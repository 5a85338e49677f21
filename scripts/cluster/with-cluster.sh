#!/usr/bin/env bash
# with-cluster.sh COMMAND [ARGS...]
# Starts a cluster with cluster.sh (PostgreSQL, Redis, TM_CLUSTER_INSTANCES instances, nginx, on
# loopback), runs COMMAND with cluster.env's variables exported (TM_CLUSTER_URL, TM_CLUSTER_DIR,
# TM_INSTANCE_<i>_URL, ...), then stops the cluster, also when COMMAND fails or the script is
# interrupted. Exits with COMMAND's status. COMMAND may call cluster.sh kill-instance /
# restart-instance / status itself (TM_CLUSTER_DIR is set). Same knobs as cluster.sh, which
# inherits them (TM_CLUSTER_INSTANCES, TM_CLUSTER_SERVER_ARGS, TM_SERVER_BIN, TM_CLUSTER_KEEP=1
# keeps the logs, TM_CLUSTER_REPLICA=1 adds a PostgreSQL read replica: COMMAND then also sees
# TM_DATABASE_REPLICA_URL and TM_PG_REPLICA_PID).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(($# > 0)) || {
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
}

if [[ -z "${TM_CLUSTER_DIR:-}" ]]; then
  TM_CLUSTER_DIR=$(mktemp -d /tmp/tm-cluster.XXXXXX)
fi
export TM_CLUSTER_DIR

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [[ -f "$TM_CLUSTER_DIR/.tm-cluster" ]]; then
    "$here/cluster.sh" stop || true
  else
    rmdir "$TM_CLUSTER_DIR" 2>/dev/null || true # start failed before using it
  fi
}
trap cleanup EXIT
child=""
# On INT/TERM: pass the signal to the command, wait for it, then stop the cluster (EXIT trap).
trap '[[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null; [[ -n "$child" ]] && wait "$child"; exit 130' INT TERM

"$here/cluster.sh" start
set -a
# shellcheck disable=SC1091
source "$TM_CLUSTER_DIR/cluster.env"
set +a
set +e
"$@" &
child=$!
wait "$child"
status=$?
set -e
exit $status
