#!/usr/bin/env bash
# `npm run soak`: the reliability soak (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
hash -r
exec node scripts/soak.ts "$@"
