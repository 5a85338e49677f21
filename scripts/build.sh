#!/usr/bin/env bash
# Configures and builds the whole tree into build/ (or $TM_BUILD_DIR). Extra arguments go to
# the CMake configure step. Warnings are errors (as in CI) unless TM_WERROR=OFF.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
werror=${TM_WERROR:-ON}
if [[ "${CI:-}" == "true" ]]; then werror=ON; fi
gen=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
cmake -S "$root" -B "$build" "${gen[@]}" -DTM_WERROR="$werror" "$@" >/dev/null
cmake --build "$build" -j"${TM_JOBS:-2}"
