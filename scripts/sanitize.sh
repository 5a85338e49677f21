#!/usr/bin/env bash
# scripts/sanitize.sh [asan] [tsan]   (default: both, in that order)
# Builds the server's libraries and tests with sanitizers, each kind in its own build folder, and
# runs them with ctest against a real PostgreSQL and Redis (scripts/with-services.sh), as the
# test command does. No client, GUI tests or benchmarks; -O1 with line tables, to stay fast.
#   asan: build-asan/ (TM_SANITIZE="address;undefined"): the unit and integration suites, but
#         check_format and tst_monitoring_files (scripts and checked-in files: no code of ours).
#   tsan: build-tsan/ (TM_SANITIZE=thread): the tests whose threads are our own code: the epoll
#         event dispatcher (tst_epoll_dispatcher: on a worker thread), the database pool
#         (tst_db_pool) and the hub with its group commit (tst_ws_hub, against the real server).
#         Debian's Qt is not built with TSan, so tests whose threads live inside Qt would only
#         report Qt's own synchronisation as races.
# Every sanitizer report (also from the taskmaster-server processes the tests start, whose output
# the tests do not show) is written to <build>/sanitizer-reports/; any report fails the run and is
# printed. Suppressions: scripts/sanitizers/*.supp, one reason per entry (docs/development.md).
# Environment: TM_JOBS (build and ctest jobs, default 2), TM_SANITIZE_ASAN_DIR, TM_SANITIZE_TSAN_DIR.
# Arguments after -- go to ctest (e.g. scripts/sanitize.sh asan -- -R codec).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
supp=$root/scripts/sanitizers
jobs=${TM_JOBS:-2}
stages=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  case $1 in
    asan | tsan) stages+=("$1") ;;
    *) echo "sanitize.sh: unknown stage '$1' (asan, tsan)" >&2; exit 2 ;;
  esac
  shift
done
[[ "${1:-}" != "--" ]] || shift
extra=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(asan tsan)

"$root/scripts/setup.sh"

# run_stage NAME BUILD_DIR SANITIZERS CTEST_SELECTION...
run_stage() {
  local name=$1 build=$2 sanitizers=$3
  shift 3
  local select=("$@")
  local start=$SECONDS
  echo "== sanitize $name: $sanitizers in $build"
  local gen=()
  if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
  # Warnings are errors in the normal build already; the sanitizers' instrumentation makes GCC
  # warn about code that is fine there (maybe-uninitialized and the like), so not here.
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DTM_SANITIZE="$sanitizers" \
    -DTM_BUILD_SERVER=ON -DTM_BUILD_CLIENT=OFF -DTM_BUILD_TESTS=ON -DTM_BUILD_BENCHMARKS=OFF \
    -DTM_WERROR=OFF >/dev/null
  # Only the chosen tests (and what they run: the server, tm-load): test names are target names.
  local targets
  mapfile -t targets < <(ctest --test-dir "$build" -N "${select[@]}" | awk '/Test +#/ { print $3 }')
  if [[ ${#targets[@]} -eq 0 ]]; then
    echo "sanitize.sh: no tests selected for $name" >&2
    return 1
  fi
  cmake --build "$build" -j"$jobs" --target "${targets[@]}"
  echo "-- $name: built in $((SECONDS - start)) s; running ${targets[*]}"

  local reports=$build/sanitizer-reports
  rm -rf "$reports"
  mkdir -p "$reports"
  local status=0
  (
    export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:log_path=$reports/asan:suppressions=$supp/asan.supp"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan:suppressions=$supp/ubsan.supp"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:ignore_noninstrumented_modules=1:log_path=$reports/tsan:suppressions=$supp/tsan.supp"
    "$root/scripts/with-services.sh" ctest --test-dir "$build" "${select[@]}" --output-on-failure \
      --no-tests=error -j"$jobs" "${extra[@]}"
  ) || status=$?
  # UBSan (GCC's runtime) ignores log_path and reports on stderr: in the tests' output, also of
  # tests that passed (ServerProcess forwards the server's).
  if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer' \
      "$build"/Testing/Temporary/LastTest*.log 2>/dev/null; then
    grep -B2 -A30 -E 'runtime error:|ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer' \
      "$build"/Testing/Temporary/LastTest*.log | head -n 400
    echo "sanitize.sh: $name: sanitizer reports in the tests' output above" >&2
    status=1
  fi
  local found
  found=$(find "$reports" -type f | sort)
  if [[ -n "$found" ]]; then
    local f
    for f in $found; do
      echo "---- $f"
      cat "$f"
    done
    echo "sanitize.sh: $name: sanitizer reports above (the pid in each file name is the process)" >&2
    status=1
  fi
  echo "-- $name: $((SECONDS - start)) s in all, status $status"
  return "$status"
}

failed=()
for stage in "${stages[@]}"; do
  case $stage in
    asan)
      run_stage asan "${TM_SANITIZE_ASAN_DIR:-$root/build-asan}" "address;undefined" \
        -L '^(unit|integration)$' -E '^(check_format|tst_monitoring_files)$' || failed+=(asan)
      ;;
    tsan)
      run_stage tsan "${TM_SANITIZE_TSAN_DIR:-$root/build-tsan}" thread \
        -R '^(tst_epoll_dispatcher|tst_db_pool|tst_ws_hub)$' || failed+=(tsan)
      ;;
  esac
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "sanitize.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "sanitize.sh: ${stages[*]} passed"
