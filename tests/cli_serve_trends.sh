#!/bin/sh
# cli_serve_trends.sh — `trawl serve`'s GET/POST /indexes/NAME/trends against
# `trawl trends --json` (emerging terms and bursts), its parameter errors,
# keys and /openapi.json (tests/serve/trends.py).
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is needed" >&2; exit 77; }
exec /usr/bin/python3 "$TRAWL_SOURCE_DIR/tests/serve/trends.py"
