#!/usr/bin/env bash
# Debian packages Hemicycle needs beyond Python: a CJK font for certificates and
# watermarks; for the tests also Chromium (pages), poppler-utils (pdftotext/pdftoppm),
# zbar-tools (QR decoding) and libnss3-tools (certutil: a test browser that trusts the
# room CA of `hemicycle tls init`), nginx and caddy (the documented reverse proxies, run by
# the tests on loopback ports), haproxy (in front of a leader and its standby) and sqlite3
# (the documented online backup). Installs
# what is missing when run as root; services those packages would start are not started.
set -euo pipefail
want=(fonts-wqy-zenhei)
if [ "${1:-}" = "--test" ]; then
  want+=(chromium poppler-utils zbar-tools libnss3-tools nginx caddy haproxy sqlite3)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Please install these Debian packages: ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} ..."
apt-get update -qq
# a package's postinst must not start a web server on port 80 of this machine: tests run
# their own proxies on loopback ports (policy-rc.d 101 = "action not allowed")
policy=/usr/sbin/policy-rc.d
placed=no
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && placed=yes; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$placed" = yes ]; then rm -f "$policy"; fi
