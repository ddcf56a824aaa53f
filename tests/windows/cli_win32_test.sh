#!/usr/bin/env bash
# The Windows `forge.exe` run under wine against real trees, checked against the Linux tools
# over the same files: `forge hash` (both backends) against sha256sum and `xxhsum -H2`,
# `forge scan` and `--since` against the changes this script makes, `forge watch` against real
# changes and a real SIGINT, `forge watch --update-index` keeping the index that
# `forge scan --since` answers from, `forge doctor`/`forge config` for what a Windows user
# sees. Run by ctest in the `windows` preset (tests/windows/CMakeLists.txt) inside
# scripts/with-wine.sh's prefix:  cli_win32_test.sh FORGE_EXE
set -uo pipefail
forge_exe=$(realpath "$1")
wine=/usr/lib/wine/wine64
work=$(mktemp -d "${TMPDIR:-/tmp}/forge-cli-win32.XXXXXX")
trap '[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"' EXIT  # KEEP=1 keeps it
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
forge() { "$wine" "$forge_exe" "$@"; }

cd "$work" || exit 1
mkdir -p tree/sub/deeper 'tree/dir with space'
printf 'alpha\n' >tree/a.txt
printf '' >tree/sub/empty
printf 'x' >tree/sub/deeper/one-byte
head -c 3000000 /dev/urandom >tree/sub/big.bin
printf 'accented\n' >'tree/dir with space/été.txt'
printf 'astral\n' >'tree/sub/𝄞.txt'
for i in $(seq 1 50); do printf 'file %d\n' "$i" >"tree/sub/deeper/f$i.c"; done
linux_files() { find tree -type f -print0 | sort -z; }

echo "== forge hash TREE equals sha256sum over the same files"
forge hash tree >hash.out 2>hash.err || fail "forge hash tree exited $?: $(cat hash.err)"
linux_files | xargs -0 sha256sum >sha256sum.out
if ! diff <(sort hash.out) <(sort sha256sum.out); then fail "forge hash differs from sha256sum"; fi
[ "$(wc -l <hash.out)" -eq 56 ] || fail "forge hash printed $(wc -l <hash.out) lines, not 56"

echo "== forge hash --algo xxh3 equals xxhsum -H2"
forge hash --algo xxh3 tree >xxh.out 2>xxh.err || fail "forge hash --algo xxh3 exited $?"
linux_files | xargs -0 xxhsum -H2 >xxhsum.out 2>/dev/null
if ! diff <(sort xxh.out) <(sort xxhsum.out); then fail "forge hash --algo xxh3 differs"; fi

echo "== '\\' and '/' both name a file; output uses '/'"
forge hash 'tree\sub\deeper\one-byte' >bs.out || fail "forge hash with backslashes exited $?"
grep -qx "$(sha256sum tree/sub/deeper/one-byte | cut -c1-64)  tree/sub/deeper/one-byte" bs.out ||
  fail "backslash path: got '$(cat bs.out)'"

echo "== a missing path is named on stderr, exit 1, the others still hashed"
forge hash tree/missing tree/a.txt >miss.out 2>miss.err
status=$?
[ "$status" -eq 1 ] || fail "missing path: exit $status, not 1"
grep -q "missing" miss.err || fail "missing path not named: $(cat miss.err)"
grep -q "  tree/a.txt$" miss.out || fail "tree/a.txt not hashed beside the missing path"

echo "== --backend fallback (synchronous reads on a thread pool) hashes like sha256sum"
forge hash --backend fallback tree >fb.out 2>fb.err || fail "--backend fallback exited $?: $(cat fb.err)"
if ! diff <(sort fb.out) <(sort sha256sum.out); then fail "--backend fallback differs from sha256sum"; fi

echo "== --backend uring is a clear error on Windows that names the alternatives"
forge hash --backend uring tree/a.txt >ur.out 2>ur.err
status=$?
[ "$status" -eq 1 ] || fail "--backend uring: exit $status, not 1"
grep -q "not available on Windows" ur.err || fail "--backend uring: $(cat ur.err)"
grep -q "fallback" ur.err || fail "--backend uring does not name the fallback: $(cat ur.err)"

echo "== forge scan, then --since the cursor after real changes"
forge scan --json --index-dir idx tree >scan1.json 2>scan1.err || fail "scan exited $?: $(cat scan1.err)"
[ "$(jq -r .fresh_instance scan1.json)" = true ] || fail "first scan is not a fresh instance"
[ "$(jq '[.changes[] | select(.change == "added" and .type == "file")] | length' scan1.json)" -eq 56 ] ||
  fail "first scan: not 56 added files: $(jq -c '.changes | length' scan1.json)"
jq -r .root scan1.json | grep -q '^[A-Z]:/.*/tree$' || fail "root is not a '/' path: $(jq -r .root scan1.json)"
jq -e '.changes[] | select(.path == "dir with space/été.txt")' scan1.json >/dev/null ||
  fail "the UTF-8 name is not in the scan"
cursor=$(jq -r .cursor scan1.json)
printf 'alpha, changed\n' >tree/a.txt
printf 'new\n' >tree/sub/new.txt
rm tree/sub/deeper/f7.c
forge scan --json --index-dir idx --since "$cursor" tree >scan2.json 2>scan2.err ||
  fail "scan --since exited $?: $(cat scan2.err)"
got=$(jq -r '[.changes[] | "\(.change) \(.path)"] | sort | join(",")' scan2.json)
[ "$got" = "added sub/new.txt,modified a.txt,removed sub/deeper/f7.c" ] || fail "--since: got '$got'"
[ "$(jq -r .fresh_instance scan2.json)" = false ] || fail "--since a known cursor gave a fresh instance"
new_xxh=$(xxhsum -H2 tree/sub/new.txt 2>/dev/null | cut -c1-32)
[ "$(jq -r '.changes[] | select(.path == "sub/new.txt") | .xxh3' scan2.json)" = "$new_xxh" ] ||
  fail "--since: the added file's xxh3 is not xxhsum's"

echo "== forge doctor and forge config on Windows"
forge doctor --json tree >doctor.json 2>doctor.err || fail "doctor exited $?: $(cat doctor.err)"
[ "$(jq -r '"\(.platform) \(.io_backend)"' doctor.json)" = "Windows iocp" ] ||
  fail "doctor: $(jq -c '{platform, io_backend}' doctor.json)"
jq -r .lmdb_version doctor.json | grep -q '^LMDB 0\.9' || fail "doctor: no LMDB version"
FORGE_IO_BACKEND=fallback forge doctor --json tree >doctor-fb.json 2>doctor-fb.err ||
  fail "doctor with FORGE_IO_BACKEND=fallback exited $?: $(cat doctor-fb.err)"
[ "$(jq -r '"\(.io_backend): \(.io_backend_reason)"' doctor-fb.json)" = \
  "fallback: forced by FORGE_IO_BACKEND or io.backend" ] ||
  fail "doctor with FORGE_IO_BACKEND=fallback: $(jq -c '{io_backend, io_backend_reason}' doctor-fb.json)"
printf '{"io": {"max_file_handles": "many"}}' >bad.json
forge config check bad.json >check.out 2>&1
status=$?
[ "$status" -eq 1 ] || fail "config check of a bad file: exit $status, not 1"
grep -q "io.max_file_handles" check.out || fail "config check does not name the key: $(cat check.out)"
forge --set io.max_file_handles=512 config show --json >show.json 2>show.err ||
  fail "config show exited $?"
[ "$(jq -r '.config.io.max_file_handles // .io.max_file_handles' show.json)" = 512 ] ||
  fail "config show does not apply --set: $(head -c 300 show.json)"

echo "== forge watch reports real changes and stops cleanly on SIGINT (Ctrl+C)"
# Waits (up to 30 s: wine is slow to start) for a line matching $2 in file $1.
wait_for_line() {
  for _ in $(seq 1 300); do
    grep -Eq "$2" "$1" && return 0
    sleep 0.1
  done
  return 1
}
mkdir -p watched/sub
# wine itself in the background (not the forge function: a background subshell would ignore
# the SIGINT).
"$wine" "$forge_exe" watch --debounce-ms 20 watched >watch.out 2>watch.err &
watcher=$!
# "watching" is printed after the first ReadDirectoryChangesW is issued: every later change
# is seen.
wait_for_line watch.err '^watching .*watched \(2 directories\)' || fail "watch did not start: $(cat watch.err)"
printf 'new\n' >watched/sub/new.txt
wait_for_line watch.out '^created +sub/new.txt$' || fail "no created event: $(cat watch.out)"
rm watched/sub/new.txt
wait_for_line watch.out '^removed +sub/new.txt$' || fail "no removed event: $(cat watch.out)"
kill -INT "$watcher"
for _ in $(seq 1 100); do kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$watcher" 2>/dev/null; then
  fail "forge watch still runs 10 s after SIGINT"
  kill -KILL "$watcher"
fi
wait "$watcher"
status=$?
[ "$status" -eq 0 ] || fail "forge watch exited $status after SIGINT, not 0: $(cat watch.err)"

echo "== forge watch --update-index keeps the index current: scan --since answers from it"
mkdir -p kept/sub
printf 'one\n' >kept/a.txt
printf 'two\n' >kept/sub/b.txt
forge scan --json --index-dir kidx kept >k0.json 2>k0.err || fail "scan of kept exited $?: $(cat k0.err)"
kcursor=$(jq -r .cursor k0.json)
"$wine" "$forge_exe" watch --update-index --index-dir kidx --debounce-ms 20 kept >keeper.out 2>keeper.err &
keeper=$!
wait_for_line keeper.err '^watching .*kept' || fail "watch --update-index did not start: $(cat keeper.err)"
printf 'one, changed\n' >kept/a.txt
printf 'new\n' >kept/sub/new.txt
rm kept/sub/b.txt
# The keeper claims the index after its first full scan; until then scan --since walks.
answered_by=none
for _ in $(seq 1 40); do
  forge scan --json --index-dir kidx --since "$kcursor" kept >k1.json 2>k1.err ||
    fail "scan --since (kept) exited $?: $(cat k1.err)"
  answered_by=$(jq -r .backend k1.json)
  [ "$answered_by" = watcher ] && break
  sleep 0.25
done
[ "$answered_by" = watcher ] || fail "scan --since never answered from the keeper: $answered_by, $(cat keeper.err)"
got=$(jq -r '[.changes[] | "\(.change) \(.path)"] | sort | join(",")' k1.json)
[ "$got" = "added sub/new.txt,modified a.txt,removed sub/b.txt" ] || fail "kept --since: got '$got'"
# A change after the claim: the client's sync cookie makes the keeper apply it first, so the
# answer (no walk) holds it.
printf 'later\n' >kept/sub/later.txt
forge scan --json --index-dir kidx --since "$kcursor" kept >k2.json 2>k2.err ||
  fail "scan --since after a later change exited $?: $(cat k2.err)"
[ "$(jq -r .backend k2.json)" = watcher ] || fail "the later scan walked: $(jq -r .backend k2.json)"
jq -e '.changes[] | select(.path == "sub/later.txt" and .change == "added")' k2.json >/dev/null ||
  fail "the keeper's answer misses sub/later.txt: $(jq -c .changes k2.json)"
kill -INT "$keeper"
for _ in $(seq 1 100); do kill -0 "$keeper" 2>/dev/null || break; sleep 0.1; done
kill -0 "$keeper" 2>/dev/null && { fail "watch --update-index still runs 10 s after SIGINT"; kill -KILL "$keeper"; }
wait "$keeper"
status=$?
[ "$status" -eq 0 ] || fail "watch --update-index exited $status after SIGINT: $(cat keeper.err)"
# Released on exit: the next answer walks; no sync cookie is left in the tree.
forge scan --json --index-dir kidx --since "$kcursor" kept >k3.json 2>/dev/null
[ "$(jq -r .backend k3.json)" != watcher ] || fail "the keeper's claim outlived it"
! ls -a kept | grep -q '^\.forge-cookie-' || fail "sync cookies left behind: $(ls -a kept)"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
