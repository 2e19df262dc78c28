#!/bin/sh
# Checks that the layers depend one way:
#   index/ <- query/ <- engine/ <- tools/, bench/
# Every #include "..." line of a C/C++ file under index/, query/, engine/,
# tools/ and bench/ is resolved to the folder that holds the header, and must
# point at the file's own folder, a folder below it, or include/trawl.h (the
# public header, which any layer may include for the trawl_rc codes). tools/
# and bench/ see only trawl.h and their own headers. A header name that is in
# no folder, or in more than one (every internal folder is on the library's
# include path, so the name would be ambiguous), is an error too.
# Prints each offending file:line and fails if there is any.
#
# The one exception: bench/kernels_bench.c measures the internal SIMD
# intersection kernels (query/kernels.h over index/rview.h views) against
# CRoaring. They are not part of the public API and must not become so just
# to be benchmarked, so that one file may include those two headers (CMake
# gives only that file the internal include path).
set -eu
cd "${TRAWL_SOURCE_DIR:?}"
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
find index query engine tools bench include -name '*.h' | sort >"$headers"

awk '
BEGIN {
    # Which layers each layer may include, besides the public header.
    allow["index"] = " index "
    allow["query"] = " query index "
    allow["engine"] = " engine query index "
    allow["tools"] = " tools "
    allow["bench"] = " bench "
    exception["bench/kernels_bench.c kernels.h"] = 1
    exception["bench/kernels_bench.c rview.h"] = 1
    bad = 0
    files = 0
}
# First pass (header lists): one header path a line.
FNR == NR {
    n = split($0, part, "/")
    name = part[n]
    if (name in home && home[name] != part[1]) dup[name] = home[name] "/ and " part[1]
    home[name] = part[1]
    next
}
FNR == 1 { files++ }
/^[ \t]*#[ \t]*include[ \t]*"/ {
    line = $0
    sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", line)
    sub(/".*/, "", line)
    n = split(line, part, "/")
    name = part[n]
    split(FILENAME, fp, "/")
    layer = fp[1]
    if (name == "trawl.h" && home[name] == "include") next
    if (!(name in home)) {
        printf "%s:%d: includes \"%s\", which is in none of index/ query/ engine/ tools/ bench/ include/\n", FILENAME, FNR, line
        bad++
        next
    }
    if (name in dup) {
        printf "%s:%d: includes \"%s\", which is in both %s/\n", FILENAME, FNR, line, dup[name]
        bad++
        next
    }
    target = home[name]
    if (index(allow[layer], " " target " ")) next
    if ((FILENAME " " name) in exception) next
    printf "%s:%d: %s/ includes \"%s\" of %s/, against the layer order (index <- query <- engine <- tools, bench)\n", FILENAME, FNR, layer, line, target
    bad++
}
END {
    if (files == 0) { print "no source files found"; exit 1 }
    if (bad) { printf "%d include(s) against the layer order\n", bad; exit 1 }
    printf "ok: %d files, includes follow index <- query <- engine <- tools, bench\n", files
}
' "$headers" $(find index query engine tools bench \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) | sort)
