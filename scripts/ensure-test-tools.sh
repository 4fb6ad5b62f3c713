#!/usr/bin/env bash
# Debian packages the tests drive for real: Chromium (dashboard and directory pages, through
# Playwright with the system browser) and docker-compose (validates deploy/docker-compose.yml;
# no Docker engine is needed for `config`) and systemd-analyze (verifies deploy/systemd/).
# Installs only what is missing (needs root).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "ensure-test-tools: installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "ensure-test-tools: ready" >&2
