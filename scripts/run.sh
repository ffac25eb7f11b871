#!/usr/bin/env bash
# Set up, build the demo index from examples/articles, and start the chat server on http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/qa index build examples/articles
exec .venv/bin/qa serve "$@"
