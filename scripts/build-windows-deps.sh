#!/usr/bin/env bash
# Builds the C libraries Forge's Windows build links (LMDB, zstd) for x86_64 Windows from
# Debian's source packages: `apt-get source` fetches them (scripts/install-deps.sh adds the
# deb-src lists this needs), x86_64-w64-mingw32-gcc-posix compiles them into static
# libraries. No binary is fetched from anywhere else.
#   scripts/build-windows-deps.sh [PREFIX]      (default: build/windows-deps)
# PREFIX gets include/ and lib/ (lmdb.h, zstd.h, liblmdb.a, libzstd.a); cmake/windows.cmake
# reads them from there (FORGE_WINDOWS_DEPS). A prefix whose stamp names the same source
# versions and this script's hash is reused as it is: a second run does nothing.
# rapidcheck is not built: Debian's archive no longer serves its orig tarball (404).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(realpath -m "${1:-build/windows-deps}")
cc=x86_64-w64-mingw32-gcc-posix
ar=x86_64-w64-mingw32-ar
if ! command -v "$cc" >/dev/null; then
  echo "build-windows-deps: $cc is missing: run scripts/install-deps.sh" >&2
  exit 1
fi
if command -v ccache >/dev/null; then cc="ccache $cc"; fi
# Source package -> version, from the deb-src lists.
source_version() {
  apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}
stamp="lmdb=$(source_version lmdb) libzstd=$(source_version libzstd) script=$(sha256sum "$0" | cut -c1-16)"
case "$stamp" in *"= "*|*"=")
  echo "build-windows-deps: apt-cache knows no source of lmdb or libzstd: the deb-src lists" \
       "are missing; run scripts/install-deps.sh (it adds them and runs apt-get update)" >&2
  exit 1 ;;
esac
if [ -f "$prefix/stamp" ] && [ "$(cat "$prefix/stamp")" = "$stamp" ]; then
  echo "build-windows-deps: $prefix is up to date ($stamp)" >&2
  exit 0
fi
start=$(date +%s)
work="$prefix/src"
rm -rf "$prefix"
mkdir -p "$work" "$prefix/include" "$prefix/lib"
# apt-get source runs as root here; unpacking needs dpkg-source (dpkg-dev).
(cd "$work" && apt-get source -qq lmdb libzstd >/dev/null 2>"$work/apt.log") || {
  cat "$work/apt.log" >&2
  echo "build-windows-deps: apt-get source lmdb libzstd failed (above)" >&2
  exit 1
}
jobs=$(nproc)
# Compiles the C files given on stdin with the flags in $@ into objects in $objdir.
compile() {
  mkdir -p "$objdir"
  xargs -P "$jobs" -I{} sh -c "$cc $* -c {} -o $objdir/\$(basename {} .c).o"
}

# LMDB: mdb.c + midl.c (its own Makefile builds exactly these two into liblmdb.a).
lmdb=$(echo "$work"/lmdb-*/libraries/liblmdb)
objdir="$work/obj/lmdb"
printf '%s\n' "$lmdb/mdb.c" "$lmdb/midl.c" | compile -O2 -g -w
$ar rcs "$prefix/lib/liblmdb.a" "$objdir"/*.o
cp "$lmdb/lmdb.h" "$prefix/include/"

# zstd: the library's common, compress and decompress parts, single-threaded, without the
# x86-64 assembly decoder (its .S is written for the System V ABI, not Windows').
zstd=$(echo "$work"/libzstd-*/lib)
objdir="$work/obj/zstd"
find "$zstd/common" "$zstd/compress" "$zstd/decompress" -name '*.c' |
  compile -O2 -g -w -DZSTD_DISABLE_ASM -I"$zstd" -I"$zstd/common"
$ar rcs "$prefix/lib/libzstd.a" "$objdir"/*.o
cp "$zstd/zstd.h" "$zstd/zstd_errors.h" "$zstd/zdict.h" "$prefix/include/"

rm -rf "$work"
echo "$stamp" >"$prefix/stamp"
echo "build-windows-deps: built $stamp into $prefix in $(($(date +%s) - start)) s" >&2
