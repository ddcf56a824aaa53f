#!/bin/sh
# ABI check: the dynamic symbols libforge.so exports must equal the committed list.
# Usage: check_abi.sh LIBFORGE_SO SYMBOLS_FILE
set -eu
lib=$1
expected=$2
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
nm -D --defined-only "$lib" | awk '{print $NF}' | LC_ALL=C sort -u > "$actual"
if ! diff -u "$expected" "$actual"; then
  cat >&2 <<MSG

libforge.so exports a different set of symbols than $expected (diff above: - committed,
+ built). The C ABI is a promise to every program linked against libforge.so.0.
- If this was an accident (a C++ symbol leaking out, a forge_* function renamed), fix the
  code or capi/libforge.map.
- If the change is deliberate: adding functions is compatible; removing or changing one
  needs FORGE_ABI_VERSION in include/forge/forge.h, SOVERSION in capi/CMakeLists.txt and
  the FORGE_<n> node in capi/libforge.map bumped together. Then update the list with
    nm -D --defined-only $lib | awk '{print \$NF}' | LC_ALL=C sort -u > $expected
  and commit it.
MSG
  exit 1
fi
echo "libforge.so exports the $(wc -l < "$actual") committed symbols"
