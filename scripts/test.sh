#!/usr/bin/env bash
# `npm test`: typecheck, lint and the whole vitest suite against real local services.
# Installs what is missing first; the suite starts (and stops) its own Redis and emulator.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh --with-browser || exit 1
hash -r  # node_modules/.bin/node (the project's Node LTS) may have just appeared on PATH
mkdir -p .local

echo "== typecheck"; tsc --noEmit || exit 1
# House style: Prettier (.prettierrc.json; `npm run format` rewrites, this only checks).
echo "== format"; prettier --check --cache . || exit 1
echo "== lint"; eslint . || exit 1
echo "== tests (node $(node --version))"
# A report left by an earlier run must not stand in for this one.
rm -f .local/vitest.json
vitest run --reporter=default --reporter=json --outputFile.json=.local/vitest.json "$@"
rc=$?
node scripts/test-summary.ts .local/vitest.json || rc=1
exit $rc
