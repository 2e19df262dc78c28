#!/bin/sh
# cli_serve_similar.sh — `trawl serve`'s GET /indexes/NAME/documents/ID/similar
# against `trawl similar --json`, its errors, keys, /openapi.json and
# /metrics (tests/serve/similar.py).
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is needed" >&2; exit 77; }
exec /usr/bin/python3 "$TRAWL_SOURCE_DIR/tests/serve/similar.py"
