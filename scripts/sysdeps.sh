#!/usr/bin/env bash
# Installs the Debian packages that static export (kaleido), the browser tests, the login
# tests (Node.js for the test OpenID Connect provider) and the team-deployment tests (nginx,
# PostgreSQL, openssl) need.
# As root it installs what is missing; otherwise it says what is missing and carries on
# (tests that need Chromium are then skipped with that reason).
set -u
need=()
command -v chromium >/dev/null 2>&1 || [ -x "${BROWSER_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# the login tests start a real OpenID Connect provider (npm package oidc-provider)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# the team-deployment tests: nginx in front of two app processes, PostgreSQL, a TLS test certificate
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 || need+=(postgresql)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Systeempakketten installeren: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "Installeren van ${need[*]} is mislukt."; exit 1; }
else
  echo "Let op: ontbrekende systeempakketten: ${need[*]}."
  echo "Installeer ze met: sudo apt-get install ${need[*]}"
  echo "Zonder chromium werkt statische export (PNG/SVG/PDF) niet en worden browsertests overgeslagen."
fi
exit 0
