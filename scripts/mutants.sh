#!/usr/bin/env bash
# `npm run mutants`: named mutants the proof suites must kill (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
hash -r
exec node scripts/mutants.ts "$@"
