#!/usr/bin/env bash
# Copies the screenshots the README shows from a build's GUI test artifacts into docs/screenshots/.
# Usage: tests/gui/copy-screenshots.sh [BUILD_DIR]   (default: build; run tst_client_screens first)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
src=$build/tests/gui/screenshots
dst=$root/docs/screenshots
chosen=(chat-room-desktop board-dark-desktop chat-room-phone board-desktop login-desktop
  chat-members-dark-desktop chat-list-phone chat-list-dark-phone chat-members-dark-phone)
mkdir -p "$dst"
for name in "${chosen[@]}"; do
  if [[ ! -f $src/$name.png ]]; then
    echo "missing $src/$name.png: run 'ctest -R tst_client_screens' in $build first" >&2
    exit 1
  fi
  cp "$src/$name.png" "$dst/$name.png"
done
echo "copied ${#chosen[@]} screenshots to $dst"
