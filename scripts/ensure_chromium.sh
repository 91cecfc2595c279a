#!/usr/bin/env bash
# Make sure a Chromium exists for the end-to-end tests.
# Debian/Ubuntu: the distribution's chromium package. Elsewhere: Playwright's own browser download.
set -euo pipefail
venv=${1:-.venv}
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Chromium for the end-to-end tests (apt-get)..."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium </dev/null
else
  echo "Installing Playwright's Chromium for the end-to-end tests..."
  "$venv/bin/python" -m playwright install chromium </dev/null
fi
