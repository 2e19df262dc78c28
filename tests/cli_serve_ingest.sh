#!/bin/sh
# cli_serve_ingest.sh — `trawl serve` ingestion: group commit under concurrent
# searches against the `trawl index` oracle, kill -9 durability, SIGTERM
# drain, reopen on external commits and SIGHUP (tests/serve/ingest.py).
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is needed" >&2; exit 77; }
exec /usr/bin/python3 "$TRAWL_SOURCE_DIR/tests/serve/ingest.py"
