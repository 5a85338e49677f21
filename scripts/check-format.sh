#!/usr/bin/env bash
# Fails (listing the files) when a tracked C++ file differs from what .clang-format asks for.
# Fix with: git ls-files '*.h' '*.cpp' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "check-format: not a git checkout, nothing to check"
  exit 0
fi
mapfile -t files < <(git ls-files '*.h' '*.cpp')
bad=$(clang-format --dry-run "${files[@]}" 2>&1 | grep -oE '^[^:]+\.(h|cpp):' | sort -u || true)
if [[ -n "$bad" ]]; then
  echo "check-format: these files need clang-format:"
  echo "$bad"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
