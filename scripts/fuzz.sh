#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (-fsanitize=fuzzer,address,undefined) into
# build-fuzz/ (or $TM_FUZZ_BUILD_DIR) and runs each for a bounded time over its seed corpus
# fuzz/corpus/<target>/: first every seed (the regression cases among them), then new inputs for
# TM_FUZZ_SECONDS (default 20) seconds. A crash, a sanitizer report, a broken property, a leak, a
# slow input (TM_FUZZ_TIMEOUT s, default 10) or more than 2 GB fails the run; the input is kept as
# build-fuzz/artifacts/<target>/crash-... and the command that replays it is printed.
# TM_FUZZ_SEED and TM_FUZZ_RUNS make a run repeatable (libFuzzer's -seed and -runs; the time
# limit stays a ceiling): the test command uses them, so a CI run does not fail at random on a
# finding that the previous run missed; without them every run explores anew.
# Usage: scripts/fuzz.sh [target...]   (default: every target). docs/development.md, "Fuzzing".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TM_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${TM_FUZZ_SECONDS:-20}
timeout=${TM_FUZZ_TIMEOUT:-10}
repeatable=()
[[ -z "${TM_FUZZ_SEED:-}" ]] || repeatable+=(-seed="$TM_FUZZ_SEED")
[[ -z "${TM_FUZZ_RUNS:-}" ]] || repeatable+=(-runs="$TM_FUZZ_RUNS")
all=(fuzz_rest_json fuzz_ws_frames fuzz_query fuzz_config fuzz_urls fuzz_redis_reply fuzz_request_framing
  fuzz_attachment_heads)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
gen=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
# Only the parsers and their libraries: no server, client, tests or benchmarks.
cmake -S "$root" -B "$build" "${gen[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTM_FUZZ=ON -DTM_SANITIZE="address;undefined" \
  -DTM_BUILD_SERVER=OFF -DTM_BUILD_CLIENT=OFF -DTM_BUILD_TESTS=OFF -DTM_BUILD_BENCHMARKS=OFF \
  -DTM_SYSTEMD=OFF -DTM_WERROR=OFF >/dev/null
cmake --build "$build" -j"${TM_JOBS:-2}" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export QT_LOGGING_RULES=${QT_LOGGING_RULES:-"*.warning=false"}
failed=()
for target in "${targets[@]}"; do
  seeds=$root/fuzz/corpus/$target
  work=$build/corpus/$target # what this run found: kept between runs, never written into the tree
  artifacts=$build/artifacts/$target
  mkdir -p "$work" "$artifacts"
  echo "== $target: ${seconds}s over $(find "$seeds" -type f | wc -l) seeds"
  if ! "$build/fuzz/$target" "$work" "$seeds" -max_total_time="$seconds" -timeout="$timeout" \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "${repeatable[@]}" \
      >"$build/$target.log" 2>&1; then
    tail -n 60 "$build/$target.log"
    echo "fuzz.sh: $target FAILED; replay: $build/fuzz/$target $artifacts/<file>" >&2
    echo "  keep the input as fuzz/corpus/$target/regress-<what>, fix, and add a unit test row" >&2
    failed+=("$target")
    continue
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/$target.log" | tr '\n' ' '
  echo
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran (at most ${seconds}s${TM_FUZZ_RUNS:+ or $TM_FUZZ_RUNS runs} each${TM_FUZZ_SEED:+, seed $TM_FUZZ_SEED}) without a finding"
