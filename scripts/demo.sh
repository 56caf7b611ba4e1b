#!/usr/bin/env bash
# `npm run demo`: the worker on local stand-ins (Redis, the Secrets Manager emulator, provider
# fakes), start to finish, stopping everything it started by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
hash -r
exec node scripts/demo.ts "$@"
