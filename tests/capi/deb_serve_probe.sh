#!/bin/sh
# Part of deb_test.sh: `forge serve` runs inside the fresh Debian root with its store and
# port file in SERVE_DIR (bind-mounted there); from outside the root, PUT "hello" to
# /cas/SHA, GET it back, then stop the server with SIGTERM; it must exit within 30 s.
# The server is stopped on every path out of this script (the bootstrap then unmounts).
# Usage: deb_serve_probe.sh SERVE_DIR SHA256_OF_HELLO
set -eu
dir=$1
sha=$2
stop_server() {
  pid=$(cat "$dir/pid" 2>/dev/null) || return 0
  kill -KILL "$pid" 2>/dev/null || true
}
trap stop_server EXIT
i=0
until test -s "$dir/port"; do
  i=$((i + 1))
  test "$i" -le 300 || { echo "forge serve wrote no port file in 30 s" >&2; cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.1
done
port=$(sed 's/.*"http":\([0-9]*\).*/\1/' "$dir/port")
printf hello | curl -sf -X PUT --data-binary @- "http://127.0.0.1:$port/cas/$sha"
got=$(curl -sf "http://127.0.0.1:$port/cas/$sha")
test "$got" = hello || { echo "GET /cas/$sha returned '$got'" >&2; exit 1; }
pid=$(cat "$dir/pid")
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i + 1))
  test "$i" -le 300 || { echo "forge serve did not stop within 30 s of SIGTERM" >&2; exit 1; }
  sleep 0.1
done
trap - EXIT
echo "forge serve in the fresh root: PUT and GET of /cas/$sha ok, stopped on SIGTERM"
