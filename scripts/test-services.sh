#!/usr/bin/env bash
# Make sure the services the test suite talks to are there (PostgreSQL on its standard port).
# Tests that need their own Redis/ZooKeeper start private instances on free ports themselves
# (prism_testkit.services / prism_testkit.zookeeper); this script only installs what is missing.
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

# ZooKeeper: the coordination tests start a private standalone server from the Debian package.
if [ ! -f /usr/share/java/zookeeper.jar ]; then
  echo "installing ZooKeeper (Debian package zookeeper) for the coordination tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q zookeeper >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -q zookeeper >/dev/null; }
fi

# Chromium: the workbench's browser tests (tests/workbench/test_browser.py) drive Debian's
# /usr/bin/chromium through Playwright; no browser is ever downloaded (`playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium (Debian package chromium) for the workbench browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -q chromium >/dev/null; }
fi

# Node.js: `make test` runs the JavaScript events client's tests (node --test clients/js/),
# and tests/clients/ drives the client against a real node; Debian's nodejs, no npm packages.
if ! command -v node >/dev/null; then
  echo "installing Node.js (Debian package nodejs) for the JavaScript client tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q nodejs >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -q nodejs >/dev/null; }
fi
