#!/usr/bin/env bash
# Server memory of `forge serve` (gRPC) with 256 concurrent connections (issue 6).
# Starts `forge serve --no-fsync` on free ports over an empty store, reads its VmRSS idle, then
# runs forge_grpc_load: 256 channels, each its own TCP connection, each issuing one
# FindMissingBlobs (all 256 in flight at once) and then held open. With the connections
# still open it reads VmHWM (peak) and VmRSS of the server from /proc/PID/status and counts
# the server's established gRPC connections. Repeats ROUNDS times (fresh server each time)
# and prints every round plus the medians.
# Usage: benchmarks/grpc_rss.sh [build/default/cli/forge] [build/default/benchmarks/forge_grpc_load]
#        (env: ROUNDS=5 CONNECTIONS=256 FORGE_BENCH_DIR=/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
forge=${1:-build/default/cli/forge}
load=${2:-build/default/benchmarks/forge_grpc_load}
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-256}

work=$(mktemp -d "${FORGE_BENCH_DIR:-/tmp}/forge-grpc-rss.XXXXXX")
cleanup() {
  [ -n "${load_pid:-}" ] && kill "$load_pid" 2>/dev/null || true
  [ -n "${forge_pid:-}" ] && kill "$forge_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

status_kib() {  # status_kib PID FIELD -> the value in KiB
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}
. benchmarks/lib.sh

printf '%-6s %12s %12s %12s %12s\n' round idle_rss_kib hwm_kib rss_kib connections
: >"$work/results"
for round in $(seq "$rounds"); do
  rm -rf "$work/store" "$work/port"
  "$forge" serve --no-fsync --http-port 0 --grpc-port 0 --port-file "$work/port" \
    --dir "$work/store" 2>"$work/forge.log" &
  forge_pid=$!
  for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  if [ ! -s "$work/port" ]; then
    echo "forge serve did not start:" >&2; cat "$work/forge.log" >&2; exit 1
  fi
  grpc_port=$(python3 -c "import json;print(json.load(open('$work/port'))['grpc'])")
  sleep 0.5
  idle=$(status_kib "$forge_pid" VmRSS)

  "$load" --target "127.0.0.1:$grpc_port" --connections "$connections" --hold 600 \
    >"$work/load.out" 2>"$work/load.err" &
  load_pid=$!
  for _ in $(seq 1200); do
    grep -q '^ready' "$work/load.out" && break
    kill -0 "$load_pid" 2>/dev/null || break
    sleep 0.05
  done
  read -r _ opened ok <"$work/load.out" || { cat "$work/load.err" >&2; exit 1; }
  if [ "$ok" != "$connections" ]; then
    echo "only $ok of $opened calls succeeded:" >&2; cat "$work/load.err" >&2; exit 1
  fi
  sleep 0.5  # let the server settle with every connection open and idle
  hwm=$(status_kib "$forge_pid" VmHWM)
  rss=$(status_kib "$forge_pid" VmRSS)
  established=$(ss -Htn state established "( sport = :$grpc_port )" | wc -l)
  printf '%-6s %12s %12s %12s %12s\n' "$round" "$idle" "$hwm" "$rss" "$established"
  echo "$idle $hwm $rss $established" >>"$work/results"

  kill "$load_pid"; wait "$load_pid" 2>/dev/null || true; load_pid=
  kill "$forge_pid"; wait "$forge_pid" 2>/dev/null || true; forge_pid=
done

printf '%-6s %12s %12s %12s %12s\n' median \
  "$(cut -d' ' -f1 "$work/results" | median)" "$(cut -d' ' -f2 "$work/results" | median)" \
  "$(cut -d' ' -f3 "$work/results" | median)" "$(cut -d' ' -f4 "$work/results" | median)"
