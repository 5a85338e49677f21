#!/usr/bin/env bash
# bench.sh [NAME...]: builds, starts PostgreSQL and Redis, runs the benchmarks at full size
# (default: every bench_* executable) and rewrites their section of docs/BENCHMARKS.md with the
# figures, the exact command, the machine and the date. Figures are also printed.
# Environment: TM_BENCH_ROWS (history table size, default 10000000). QTest picks the iteration
# count so that each case measures at least TM_BENCH_MIN_TOTAL_MS (default 1000) in total.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$root/scripts/bench-lib.sh"
build=${TM_BUILD_DIR:-$root/build}
log=$(mktemp)
if ! { "$root/scripts/setup.sh" && "$root/scripts/build.sh" -DTM_BUILD_BENCHMARKS=ON; } >"$log" 2>&1; then
  echo "bench: set-up or build failed:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
rm -f "$log"
names=("$@")
if ((${#names[@]} == 0)); then
  mapfile -t names < <(cd "$build/tests/bench" && ls bench_* 2>/dev/null | grep -v '\.' || true)
fi
export TM_BENCH_ROWS=${TM_BENCH_ROWS:-10000000}
# Durable PostgreSQL as production runs it (with-services.sh alone would start the test suite's
# fast one); TM_PG_DURABLE=0 for the fast settings.
export TM_PG_DURABLE=${TM_PG_DURABLE:-1}
# Filling a 10M-row table takes minutes: QtTest aborts a test function after 300 s by default.
export QTEST_FUNCTION_TIMEOUT=${QTEST_FUNCTION_TIMEOUT:-7200000}
min_total=${TM_BENCH_MIN_TOTAL_MS:-1000}
machine=$(tm_bench_machine)
for name in "${names[@]}"; do
  out=$(mktemp)
  echo "bench: $name (TM_BENCH_ROWS=$TM_BENCH_ROWS)"
  if ! "$root/scripts/with-services.sh" "$build/tests/bench/$name" -minimumtotal "$min_total" -csv >"$out" 2>&1; then
    # Nothing is written to the docs for a failed run; show what the benchmark printed.
    echo "bench: $name failed; its output:" >&2
    cat "$out" >&2
    rm -f "$out"
    exit 1
  fi
  # QTest -csv lines: "function","tag","metric",value per iteration,total,iterations
  table=$(awk -F, '/^"/ && NF >= 6 {
      gsub(/"/, "", $1); gsub(/"/, "", $2); gsub(/"/, "", $3);
      printf "| %s | %s | %.3f ms | %d |\n", $1, $2, $4, $6 }' "$out")
  echo "$table"
  section="<!-- bench:$name -->
### $name

Command: \`TM_BENCH_ROWS=$TM_BENCH_ROWS scripts/bench.sh $name\`
Machine: $machine. Date: $(date -u +%Y-%m-%d).

| benchmark | case | time per iteration | iterations |
|---|---|---|---|
$table
<!-- /bench:$name -->"
  tm_bench_write_section "$root/docs/BENCHMARKS.md" "$name" "$section"
  rm -f "$out"
done
