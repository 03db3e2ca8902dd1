#!/usr/bin/env bash
# Start PostgreSQL (127.0.0.1:5432, trust auth) if it is installed and down. Used by
# `make test`; on a machine without PostgreSQL the PostgreSQL tests skip with a reason,
# except under CI=true, where they must run.
set -u
command -v pg_isready >/dev/null || exit 0
pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 0.5; done
fi
echo "PostgreSQL is not running on 127.0.0.1:5432" >&2
exit 0
