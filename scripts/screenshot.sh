#!/usr/bin/env bash
# Regenerates docs/report-quickstart.png, the README's picture of a report: runs
# specs/quickstart.ron into a temporary directory and photographs its report.html with headless
# Chromium (Debian: apt-get install chromium) at 1366 x 900.
#
#   scripts/screenshot.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no chromium: apt-get install chromium" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/bench run specs/quickstart.ron --threads 1 --out "$work/out" >/dev/null 2>&1
mkdir -p docs
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$work/profile" --window-size=1366,900 \
  --screenshot="$root/docs/report-quickstart.png" "file://$work/out/report.html" 2>/dev/null
echo "wrote docs/report-quickstart.png"
