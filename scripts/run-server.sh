#!/usr/bin/env bash
# Quick start 1: installs what is missing, builds taskmaster-server and runs it on its embedded
# defaults (SQLite in ./data, in-process cache and bus, http://127.0.0.1:8080). Arguments are
# passed to the server (try --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" -DTM_BUILD_CLIENT=OFF -DTM_BUILD_TESTS=OFF -DTM_BUILD_BENCHMARKS=OFF
exec "${TM_BUILD_DIR:-$root/build}/server/taskmaster-server" "$@"
