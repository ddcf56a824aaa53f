#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) on the lines changed since a base commit and
# fails on any finding there: old findings elsewhere do not fail it, new ones do.
#   base: $FORGE_CHECK_BASE if set; else the merge-base with `main` when HEAD is a branch
#         off main (run it before landing); else (on main, as in CI) the commit named in
#         .ci/tidy-base: the newest commit whose changes have been checked. Whoever lands
#         runs this script and then moves .ci/tidy-base to the commit checked
#         (`scripts/check-tidy.sh --advance`), so CI checks only what nobody has checked yet.
# Known findings that are accepted for now are listed in .ci/tidy-baseline.txt as
# "<path> <check>" lines; a finding whose file and check are listed there does not fail.
# Checks library and CLI code (core/ cache/ plugins/ cli/), not tests or benchmarks. Needs the
# default preset configured (build/default/compile_commands.json; scripts/run-tests.sh does
# it) and clang-tidy 16 (scripts/install-deps.sh): clang-tidy 14 crashes in
# readability-simplify-boolean-expr on this tree, and neither knows -std=c++23 nor sees
# libstdc++'s std::expected (it wants __cpp_concepts >= 202002, which clang 16 implements
# but does not yet announce), so both are passed in explicitly below, as is Asio's
# coroutine support (Boost 1.74 only looks for it in libc++ under clang).
set -euo pipefail
cd "$(dirname "$0")/.."
tidy=${CLANG_TIDY:-clang-tidy-16}
tidy_diff=${CLANG_TIDY_DIFF:-clang-tidy-diff-16.py}
db=build/default/compile_commands.json
if [ ! -f "$db" ]; then
  echo "check-tidy: $db is missing; run \`cmake --preset default\` first" >&2
  exit 2
fi

advance=0
if [ "${1:-}" = --advance ]; then advance=1; fi
if [ -n "${FORGE_CHECK_BASE:-}" ]; then
  base=$FORGE_CHECK_BASE
elif git rev-parse -q --verify main >/dev/null &&
     [ "$(git merge-base HEAD main)" != "$(git rev-parse HEAD)" ]; then
  base=$(git merge-base HEAD main)
else
  base=$(tr -d '[:space:]' < .ci/tidy-base)
  if ! git merge-base --is-ancestor "$base" HEAD 2>/dev/null; then
    echo "check-tidy: .ci/tidy-base names $base, which is not an ancestor of HEAD;" \
         "put the newest checked commit of this branch there" >&2
    exit 2
  fi
fi
checked=$(git rev-parse HEAD)

paths='^(core|cache|plugins|cli)/.*\.(cpp|h)$'
# Windows-only files are not in Linux's compile database: the mingw build checks them. A
# source file is checked when the database compiles it; a header unless its name says win32.
files=$(git diff --name-only --diff-filter=d "$base" | grep -E "$paths" | grep -v 'win32' |
  while IFS= read -r file; do
    case $file in
      *.cpp) grep -qF "\"file\": \"$PWD/$file\"" "$db" && echo "$file" ;;
      *) echo "$file" ;;
    esac
  done || true)
# Records that everything up to HEAD is checked (only after a clean run, and only when the
# working tree is HEAD: what is checked must be what is committed).
advance_base() {
  if [ "$advance" = 1 ]; then
    if [ -n "$(git status --porcelain -- core cache plugins cli)" ]; then
      echo "check-tidy: uncommitted changes under core/ cache/ plugins/ cli/; commit, then" \
           "run --advance again" >&2
      exit 2
    fi
    echo "$checked" > .ci/tidy-base
    echo "check-tidy: .ci/tidy-base is now $(git rev-parse --short "$checked"); commit it"
  fi
}
if [ -z "$files" ]; then
  echo "check-tidy: no library or CLI source changed since $(git rev-parse --short "$base")"
  advance_base
  exit 0
fi
echo "check-tidy: $(echo "$files" | wc -l) changed file(s) since $(git rev-parse --short "$base")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/-std=c++23/-std=c++2b/g' "$db" > "$work/compile_commands.json"
git diff -U0 --no-color --diff-filter=d "$base" -- $files |
  "$tidy_diff" -p1 -path "$work" -clang-tidy-binary "$(command -v "$tidy")" \
    -regex "(core|cache|plugins|cli)/.*\.(cpp|h)" -j "$(nproc)" -timeout 900 -quiet \
    -extra-arg=-U__cpp_concepts -extra-arg=-D__cpp_concepts=202002L \
    -extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 \
    > "$work/out.txt" 2> "$work/err.txt" || true
# A crash or timeout of clang-tidy must not pass as "no findings".
if grep -qE 'Stack dump|PLEASE submit a bug report|timed out|Error while processing' \
     "$work/out.txt" "$work/err.txt"; then
  cat "$work/out.txt" "$work/err.txt" >&2
  echo "check-tidy: clang-tidy itself failed (above)" >&2
  exit 2
fi
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$work/out.txt" |
  sed "s|^$PWD/||" | while IFS= read -r line; do
    file=${line%%:*}
    check=$(sed -nE 's/.*\[([^]]+)\]$/\1/p' <<<"$line")
    grep -qxF "$file $check" .ci/tidy-baseline.txt || echo "$line"
  done || true)
if [ -n "$findings" ]; then
  cat "$work/out.txt"
  echo "check-tidy: findings not in .ci/tidy-baseline.txt:" >&2
  echo "$findings" >&2
  echo "check-tidy: $(echo "$findings" | wc -l) finding(s) on changed lines; fix them" \
       "(or, for a false positive, NOLINT(check-name) with the reason)" >&2
  exit 1
fi
echo "check-tidy: no finding on changed lines"
advance_base
