#!/usr/bin/env bash
# Make sure the services the test suite talks to are there (PostgreSQL on its standard port).
# Tests that need their own Redis/ZooKeeper start private instances on free ports themselves.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && ! pg_up; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; trying to start it" >&2
  if command -v pg_ctlcluster >/dev/null; then
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
  fi
  for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
fi
if ! command -v pg_isready >/dev/null || ! pg_up; then
  echo "PostgreSQL is unavailable: the postgres tests will fail (PRISM_SKIP_POSTGRES=1 skips them)" >&2
fi
