# check_python.sh — runs the Python binding's tests (bindings/python/tests,
# python3 -m unittest with Debian's /usr/bin/python3 and python3-cffi) against
# the library just built. Skips under the sanitizer build, whose library cannot
# be loaded into an uninstrumented Python, and when cffi is missing.
set -u
: "${TRAWL_SOURCE_DIR:?}" "${TRAWL_BUILD_DIR:?}"
if grep -q '^TRAWL_SANITIZE:BOOL=ON' "$TRAWL_BUILD_DIR/CMakeCache.txt"; then
    echo "SKIP: the sanitizer build's library cannot be loaded into python3" >&2
    exit 77
fi
/usr/bin/python3 -c 'import cffi' 2>/dev/null || { echo "SKIP: python3-cffi is not installed (tools/setup.sh)" >&2; exit 77; }
probe="$TRAWL_BUILD_DIR/libtrawl_gilprobe.so" # tests/gilprobe.c: see test_threads.py
[ -f "$probe" ] || { echo "check_python: $probe is missing (build the trawl_gilprobe target)" >&2; exit 1; }
TRAWL_GILPROBE="$probe" TRAWL_LIBRARY="$TRAWL_BUILD_DIR/libtrawl.so.0" PYTHONPATH="$TRAWL_SOURCE_DIR/bindings/python" PYTHONDONTWRITEBYTECODE=1 \
    exec /usr/bin/python3 -m unittest discover -s "$TRAWL_SOURCE_DIR/bindings/python/tests" -t "$TRAWL_SOURCE_DIR/bindings/python/tests" -v
