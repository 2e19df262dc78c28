# check_dask.sh — runs the tests of trawl.dask (bindings/python/tests_dask:
# partitioned collections on a Dask LocalCluster of worker processes, against
# a single index) with Debian's /usr/bin/python3. Skips under the sanitizer
# build (its library cannot be loaded into python3) and where cffi or
# python3-distributed cannot be imported.
set -u
: "${TRAWL_SOURCE_DIR:?}" "${TRAWL_BUILD_DIR:?}"
if grep -q '^TRAWL_SANITIZE:BOOL=ON' "$TRAWL_BUILD_DIR/CMakeCache.txt"; then
    echo "SKIP: the sanitizer build's library cannot be loaded into python3" >&2
    exit 77
fi
/usr/bin/python3 -c 'import cffi' 2>/dev/null || { echo "SKIP: python3-cffi is not installed (tools/setup.sh)" >&2; exit 77; }
/usr/bin/python3 -c 'import distributed' 2>/dev/null ||
    { echo "SKIP: python3-distributed cannot be imported (tools/setup.sh installs it)" >&2; exit 77; }
export TRAWL_LIBRARY="$TRAWL_BUILD_DIR/libtrawl.so.0" PYTHONPATH="$TRAWL_SOURCE_DIR/bindings/python" PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -m unittest discover -s "$TRAWL_SOURCE_DIR/bindings/python/tests_dask" \
    -t "$TRAWL_SOURCE_DIR/bindings/python/tests_dask" -v
