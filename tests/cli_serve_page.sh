#!/bin/sh
# cli_serve_page.sh — the search page of `trawl serve` in headless Chromium
# against the `trawl search --json` oracle; screenshots under the build tree
# (tests/serve/page.py). Skips when no browser is available.
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 is needed" >&2; exit 77; }
exec /usr/bin/python3 "$TRAWL_SOURCE_DIR/tests/serve/page.py"
