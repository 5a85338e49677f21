#!/usr/bin/env bash
# Quick start 2: installs what is missing, builds everything and runs every test with ctest,
# against a real PostgreSQL and Redis started on loopback for the run (with-services.sh).
# Arguments are passed to ctest (e.g. -L unit, -R codec).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
"$root/scripts/build.sh" -DTM_BUILD_CLIENT=ON -DTM_BUILD_TESTS=ON -DTM_BUILD_BENCHMARKS=ON
exec "$root/scripts/with-services.sh" ctest --test-dir "$build" --output-on-failure --no-tests=error -j2 "$@"
