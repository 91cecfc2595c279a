#!/usr/bin/env bash
# Make sure a PostgreSQL server binary exists for the data layer's tests (the suite starts its own server).
# Debian/Ubuntu: the distribution's postgresql package; elsewhere: name it with ALBERT_VIZ_PG_BIN.
set -euo pipefail
if [ -n "${ALBERT_VIZ_PG_BIN:-}" ] && [ -x "${ALBERT_VIZ_PG_BIN}/initdb" ]; then
  exit 0
fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing PostgreSQL for the data layer's tests (apt-get)..."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql </dev/null
else
  echo "No PostgreSQL found: install it (initdb, pg_ctl) or set ALBERT_VIZ_PG_BIN to its bin folder." >&2
  exit 1
fi
