#!/usr/bin/env bash
# The container image, built and run for real without a container engine (docs/development.md,
# "The container image in CI"): buildah (chroot isolation) builds the Dockerfile unchanged on a local stand-in of its
# base image; the image's entrypoint then runs as its own user on a read-only root filesystem
# against the local Redis and stand-ins. Needs root on Debian/Ubuntu (buildah, mmdebstrap from apt).
# Last line: `image: N passed, N failed`. CI (.ci/run) runs it after `npm test`.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "image test: needs root (buildah builds and mounts images as root here)" >&2
  echo "image: 0 passed, 1 failed"; exit 1
fi
missing=()
for tool in buildah mmdebstrap unshare chroot; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing buildah mmdebstrap (apt)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah mmdebstrap >/dev/null; } || { echo "image: 0 passed, 1 failed"; exit 1; }
  else
    echo "image test: missing ${missing[*]}; install buildah and mmdebstrap" >&2
    echo "image: 0 passed, 1 failed"; exit 1
  fi
fi
bash scripts/ensure-tools.sh || { echo "image: 0 passed, 1 failed"; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"  # the project's Node (type stripping), also when not run by npm
hash -r
export BUILDAH_ISOLATION=chroot
exec node scripts/image-test.ts "$@"
