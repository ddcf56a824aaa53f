#!/bin/sh
# The installed tree: `cmake --install` into a temp prefix, then
#  1. a CMake project finds it with find_package(Forge CONFIG), builds the C API test, the
#     README example and a C++ program on Forge::cache, and runs them;
#  2. the C API test built with the flags of `pkg-config forge` runs;
#  3. the installed `forge` runs.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR GENERATOR
set -eu
build=$1
source=$2
generator=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/forge-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -x "$prefix/bin/forge" && test -x "$prefix/bin/forge-serve"
test -f "$prefix/include/forge/forge.h" && test -f "$prefix/include/forge/cache/cas_store.h"
libdir=$(dirname "$(find "$prefix" -name 'libforge.so.0' | head -1)")
test -n "$libdir"

echo "== find_package(Forge CONFIG)"
cmake -S "$source/tests/capi/consumer" -B "$work/consumer" -G "$generator" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" -j2 > "$work/build.log" || { cat "$work/build.log"; exit 1; }
# The imported target carries no RPATH into the install tree's libforge: CMake adds the
# library's directory as the build-tree RPATH of the consumer.
"$work/consumer/capi_test"
"$work/consumer/embed_example" "$source/tests/capi/embed_example.c" "$work/example-store"
"$work/consumer/cxx_consumer" "$work/cxx-store"

echo "== pkg-config forge"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
version=$("$prefix/bin/forge" --version | awk '{print $2}')
test "$(pkg-config --modversion forge)" = "$version"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -o "$work/capi_test_pc" "$source/tests/capi/capi_test.c" \
  $(pkg-config --cflags --libs forge)
LD_LIBRARY_PATH="$libdir" "$work/capi_test_pc"

echo "== installed forge"
"$prefix/bin/forge" --version
echo "install test: passed"
