#!/bin/sh
# cli_serve_api.sh — `trawl serve`: every route and error status against the
# `trawl search --json` oracle, keys, CORS, limits, index creation and removal,
# bad input and slow clients (tests/serve/api.py).
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is needed" >&2; exit 77; }
exec /usr/bin/python3 "$TRAWL_SOURCE_DIR/tests/serve/api.py"
