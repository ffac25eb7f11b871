#!/usr/bin/env bash
# Set up and run the whole test suite (browser tests included: installs Debian's chromium when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium"
fi
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
