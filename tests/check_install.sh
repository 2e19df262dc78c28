# check_install.sh — installs the build into a scratch prefix and uses it the way
# another project would: builds examples/embed.c outside the source tree with
# pkg-config (shared and static) and with a CMake project calling
# find_package(trawl) (trawl::trawl and trawl::trawl_static), runs every
# program, and checks what they print (tests/examplelib.sh). Also checks the
# shared library's SONAME, file names and exported symbols. In the sanitizer
# build, whose library needs the sanitizer runtime, the consumers are compiled
# with the same -fsanitize flags (which trawl.pc does not carry).
set -u
: "${TRAWL_BIN:?}" "${TRAWL_SOURCE_DIR:?}" "${TRAWL_BUILD_DIR:?}"
# Consumers use the build's C compiler (a sanitizer runtime is the compiler's).
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$TRAWL_BUILD_DIR/CMakeCache.txt")
[ -n "$CC" ] || CC=cc
SAN=""
if grep -q '^TRAWL_SANITIZE:BOOL=ON' "$TRAWL_BUILD_DIR/CMakeCache.txt"; then
    SAN="-fsanitize=address,undefined"
fi
for tool in "$CC" cmake pkg-config readelf nm /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is needed" >&2; exit 77; }
done
. "$TRAWL_SOURCE_DIR/tests/examplelib.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
P=$T/prefix
SRC=$TRAWL_SOURCE_DIR/examples/embed.c

if ! cmake --install "$TRAWL_BUILD_DIR" --prefix "$P" >"$T/install.log" 2>&1; then
    cat "$T/install.log" >&2; echo "FAIL: cmake --install" >&2; exit 1
fi

# The version in the header is the version of the build (CMake's project()).
version=$(sed -n 's/^#define TRAWL_VERSION_STRING "\(.*\)"$/\1/p' "$P/include/trawl.h")
cmake_version=$(sed -n 's/^project(trawl VERSION \([0-9.]*\) .*/\1/p' "$TRAWL_SOURCE_DIR/CMakeLists.txt")
[ -n "$version" ] && [ "$version" = "$cmake_version" ] || fail "trawl.h says version '$version', CMakeLists.txt '$cmake_version'"
major=${version%%.*}
pcdir=$(dirname "$(find "$P" -name trawl.pc)")
libdir=$(dirname "$pcdir")
for f in "$P/include/trawl.h" "$libdir/libtrawl.a" "$libdir/libtrawl.so.$version" \
         "$libdir/cmake/trawl/trawlConfig.cmake" "$libdir/cmake/trawl/trawlConfigVersion.cmake"; do
    [ -f "$f" ] || fail "not installed: $f"
done
# The installed program runs from the prefix and reports the same version.
[ "$("$P/bin/trawl" --version 2>&1)" = "trawl $version (library $version)" ] ||
    fail "$P/bin/trawl --version: $("$P/bin/trawl" --version 2>&1)"
[ "$(readlink "$libdir/libtrawl.so")" = "libtrawl.so.$major" ] || fail "libtrawl.so -> $(readlink "$libdir/libtrawl.so")"
[ "$(readlink "$libdir/libtrawl.so.$major")" = "libtrawl.so.$version" ] ||
    fail "libtrawl.so.$major -> $(readlink "$libdir/libtrawl.so.$major")"
soname=$(readelf -d "$libdir/libtrawl.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libtrawl.so.$major" ] || fail "SONAME is '$soname', expected libtrawl.so.$major"
# Only the public API is exported: every defined dynamic symbol is a trawl_
# function, and every function trawl.h declares is exported.
nm -D --defined-only "$libdir/libtrawl.so" | awk '{print $3}' | sort >"$T/exported"
grep -v '^trawl_' "$T/exported" >"$T/leaked" && fail "exported beyond the API: $(head -5 "$T/leaked" | tr '\n' ' ')"
grep -o '^TRAWL_API [^(]*(' "$P/include/trawl.h" | sed 's/.*[ *]\([a-z_0-9]*\)($/\1/' | sort >"$T/declared"
[ -s "$T/declared" ] && cmp -s "$T/declared" "$T/exported" ||
    fail "declared and exported functions differ: $(diff "$T/declared" "$T/exported" | grep '^[<>]' | tr '\n' ' ')"

# run_embed LABEL BINARY [ENV...]: runs an embed build on a fresh index directory
# and checks its output against the CLI.
run_embed() {
    label=$1 bin=$2; shift 2
    rm -rf "$T/idx"
    if ! env "$@" "$bin" "$T/idx" "search engine" >"$T/out" 2>"$T/err"; then
        fail "$label exited non-zero: $(cat "$T/err")"; return
    fi
    check_embed_output "$T/out" "$T/idx" "search engine" "$label" || fails=$((fails + 1))
}
# uses_installed LABEL BINARY [ENV...]: the program loads libtrawl.so.MAJOR from
# the prefix, not from the build tree or the system.
uses_installed() {
    label=$1 bin=$2; shift 2
    where=$(env "$@" ldd "$bin" | sed -n "s/.*libtrawl\.so\.$major => \([^ ]*\).*/\1/p")
    [ "$(readlink -f "$where")" = "$(readlink -f "$libdir/libtrawl.so.$version")" ] ||
        fail "$label loads libtrawl from '$where'"
}

# pkg-config, from a directory outside the source tree.
mkdir "$T/pc" && cd "$T/pc" || exit 1
export PKG_CONFIG_PATH="$pcdir"
[ "$(pkg-config --modversion trawl)" = "$version" ] || fail "pkg-config --modversion trawl: $(pkg-config --modversion trawl 2>&1)"
# shellcheck disable=SC2046
if "$CC" $SAN -o embed_pc "$SRC" $(pkg-config --cflags --libs trawl) 2>"$T/cc.err"; then
    run_embed "pkg-config shared" ./embed_pc LD_LIBRARY_PATH="$libdir"
    uses_installed "pkg-config shared" ./embed_pc LD_LIBRARY_PATH="$libdir"
else
    fail "cc \$(pkg-config --cflags --libs trawl): $(cat "$T/cc.err")"
fi
# Static: libtrawl.a with Libs.private and Requires.private must resolve.
static_libs=$(pkg-config --static --libs trawl | sed 's/-ltrawl\b/-l:libtrawl.a/')
# shellcheck disable=SC2086
if "$CC" $SAN -o embed_pc_static "$SRC" $(pkg-config --cflags trawl) $static_libs 2>"$T/cc.err"; then
    readelf -d embed_pc_static | grep -q 'NEEDED.*libtrawl' && fail "pkg-config static build needs libtrawl.so"
    run_embed "pkg-config static" ./embed_pc_static
else
    fail "cc with pkg-config --static --libs trawl ($static_libs): $(cat "$T/cc.err")"
fi

# CMake: find_package(trawl) with CMAKE_PREFIX_PATH.
mkdir "$T/cm" && cat >"$T/cm/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(embed_consumer C)
find_package(trawl $version REQUIRED)
add_executable(embed_shared "$SRC")
target_link_libraries(embed_shared PRIVATE trawl::trawl)
add_executable(embed_static "$SRC")
target_link_libraries(embed_static PRIVATE trawl::trawl_static)
CMAKE
if cmake -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$SAN" >"$T/cm.log" 2>&1 &&
    cmake --build "$T/cm/build" >>"$T/cm.log" 2>&1; then
    run_embed "find_package trawl::trawl" "$T/cm/build/embed_shared"
    uses_installed "find_package trawl::trawl" "$T/cm/build/embed_shared"
    readelf -d "$T/cm/build/embed_static" | grep -q 'NEEDED.*libtrawl' && fail "trawl::trawl_static build needs libtrawl.so"
    run_embed "find_package trawl::trawl_static" "$T/cm/build/embed_static"
else
    fail "CMake consumer: $(tail -20 "$T/cm.log")"
fi
# A request for an incompatible version is refused.
mkdir "$T/cmv" && printf 'cmake_minimum_required(VERSION 3.18)\nproject(v C)\nfind_package(trawl %s REQUIRED)\n' \
    "$((major + 1)).0" >"$T/cmv/CMakeLists.txt"
cmake -S "$T/cmv" -B "$T/cmv/build" -DCMAKE_PREFIX_PATH="$P" >"$T/cmv.log" 2>&1 &&
    fail "find_package(trawl $((major + 1)).0) succeeded against $version"

[ "$fails" = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "install: prefix, pkg-config (shared, static) and find_package (shared, static) all work"
