#!/bin/sh
# Installs every Debian 12 package trawl needs to build, test and benchmark.
# Run as root on a fresh machine; safe to run again (apt-get skips what is there).
# clang builds the sanitizer suite of tools/test.sh, and with libclang-rt-14-dev
# (libFuzzer) the fuzz targets; clang-tidy and cppcheck serve tools/lint.sh,
# clang-format the style check, gcovr tools/coverage.sh; python3-cffi serves
# the Python binding (bindings/python), python3-distributed its partitioned
# collections on Dask (bindings/python/trawl/dask.py).
# chromium, chromium-driver and python3-selenium drive the search page of
# `trawl serve` in its end-to-end test; nginx is the HTTP ceiling in bench/serve_load.sh.
set -eu
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential cmake pkg-config python3 python3-cffi python3-distributed curl
  libroaring-dev libstemmer-dev libxxhash-dev liblz4-dev libutf8proc-dev
  libjansson-dev libyajl-dev libmicrohttpd-dev
  sqlite3 libsqlite3-dev libxapian-dev wrk
  clang libclang-rt-14-dev clang-tidy clang-format cppcheck gcovr
  chromium chromium-driver python3-selenium nginx-light"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
