#!/usr/bin/env bash
# Install tmux from Debian's packages if it is missing: the TUI smoke test (tests/tui/test_terminal.py)
# runs `caseclock tui` in a real terminal inside tmux.
set -euo pipefail

if command -v tmux >/dev/null 2>&1; then
  exit 0
fi
echo "installing tmux from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq tmux >&2
