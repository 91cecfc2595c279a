#!/usr/bin/env bash
# Make sure a Chromium exists for the end-to-end tests and the README screenshot, with fonts for every script the
# app shows: the article's Chinese quotes need a CJK font, and a machine without one draws them as boxes.
# Debian/Ubuntu: the distribution's chromium and Noto fonts. Elsewhere: Playwright's own browser download.
set -euo pipefail
venv=${1:-.venv}
FONT_PACKAGES="fonts-noto-cjk fonts-noto-color-emoji"
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
have_fonts() { [ -n "$(fc-list :lang=zh family)" ] && [ -n "$(fc-list 'Noto Color Emoji' family)" ]; }
if have_chromium && { ! command -v fc-list >/dev/null 2>&1 || have_fonts; }; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Chromium and the CJK and emoji fonts for the end-to-end tests (apt-get)..."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium $FONT_PACKAGES </dev/null
elif ! have_chromium; then
  echo "Installing Playwright's Chromium for the end-to-end tests..."
  "$venv/bin/python" -m playwright install chromium </dev/null
else
  echo "No CJK or emoji font found: install Noto CJK and Noto Color Emoji, or Chinese text shows as boxes." >&2
fi
