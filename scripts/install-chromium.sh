#!/usr/bin/env bash
# Install headless Chromium and poppler-utils from Debian's packages if they are missing: the print tests
# (tests/test_print.py) print the HTML report to PDF with `chromium --headless --print-to-pdf`, and
# scripts/docs-images.py turns PDF pages into PNGs with pdftoppm. Measured: 15 s here (apt-get update
# included; 24 packages, chromium's own ~300 MB). Nothing to do, and no network, when both are there.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing ${need[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
