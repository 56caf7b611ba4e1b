#!/usr/bin/env bash
# `npm run bench`: figures, not tests (README, Performance).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
hash -r
exec node scripts/bench.ts "$@"
