#!/usr/bin/env bash
# `npm run bench`: figures, not tests (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
hash -r
exec node scripts/bench.ts "$@"
