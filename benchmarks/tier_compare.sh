#!/usr/bin/env bash
# The upstream tier, side by side in one run (issue 13). Two `forge serve` on loopback: U, the
# upstream (warm: it holds every blob), and F, an empty store with `--upstream http://U`.
#   read-through  GET of COUNT 4 KiB and COUNT/10 1 MiB blobs through F with its local tier
#                 empty (each a miss read through from U, verified, stored), vs the same GETs
#                 from U directly, then through F again (local hits)
#   upload burst  BURST 1 KiB blobs PUT to F: client-visible time per PUT with write-behind
#                 (the default) and the time until its queue has drained to U, vs
#                 --upstream-write through (each PUT uploads before it is answered)
# GETs and PUTs go one at a time over one keep-alive connection (one curl process per set);
# figures are medians of ROUNDS runs, each on fresh stores.
# Usage: benchmarks/tier_compare.sh [build/default/cli/forge]   (env: ROUNDS=3 COUNT=500
#        BURST=10000)
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/lib.sh
forge=$(realpath "${1:-build/default/cli/forge}")
rounds=${ROUNDS:-3}
count=${COUNT:-500}
burst=${BURST:-10000}
bench_work forge-tier-bench

# serve NAME ARGS...: starts `forge serve` on a free port; its URL in $url.
serve() {
  local name=$1
  shift
  "$forge" serve --dir "$work/$name" --no-grpc --no-fsync --http-port 0 \
    --port-file "$work/$name.port" "$@" 2>"$work/$name.log" &
  stop_on_exit $!
  for _ in $(seq 200); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/$name.port")"
}
stop_all() {
  local pid
  for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  bench_pids=()
}
# blobs DIR N SIZE: N files of SIZE random bytes in DIR, named by their SHA-256.
blobs() {
  python3 - "$1" "$2" "$3" <<'PY'
import hashlib, os, sys
out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
for _ in range(n):
    data = os.urandom(size)
    with open(os.path.join(out, hashlib.sha256(data).hexdigest()), "wb") as f:
        f.write(data)
PY
}
# curl_config DIR BASE MODE: a curl -K file for every blob of DIR at BASE/cas/<sha>
# (MODE get: downloads to /dev/null; put: uploads the file).
curl_config() {
  local file
  for file in "$1"/*; do
    if [ "$3" = put ]; then
      printf 'url = "%s/cas/%s"\nupload-file = "%s"\noutput = "/dev/null"\n' "$2" "${file##*/}" "$file"
    else
      printf 'url = "%s/cas/%s"\noutput = "/dev/null"\n' "$2" "${file##*/}"
    fi
  done
}
# ms_per TOTAL_SECONDS N: milliseconds per request.
ms_per() { awk -v t="$1" -v n="$2" 'BEGIN {printf "%.3f\n", t * 1000 / n}'; }
# run_curl CONFIG: seconds for one curl process to do everything in CONFIG; fails on an error.
run_curl() {
  local t0 t1
  t0=$(now)
  curl -s -f -K "$1" >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
queue_length() {
  curl -s "$1/status" | python3 -c '
import json, sys
def find(v):
    if isinstance(v, dict):
        if "queue_length" in v: return v["queue_length"]
        for x in v.values():
            r = find(x)
            if r is not None: return r
    return None
print(find(json.load(sys.stdin)))'
}

blobs "$work/small" "$count" 4096
blobs "$work/big" $((count / 10)) $((1 << 20))
blobs "$work/burst" "$burst" 1024

declare -A samples
add() { samples[$1]+="$2"$'\n'; }
for _ in $(seq "$rounds"); do
  rm -rf "$work/up" "$work/front" "$work/front-through"
  # --- read-through -----------------------------------------------------------------
  serve up
  up=$url
  for set in small big; do
    curl_config "$work/$set" "$up" put >"$work/$set-up-put.cfg"
    run_curl "$work/$set-up-put.cfg" >/dev/null
  done
  serve front --upstream "$up"
  front=$url
  for set in small big; do
    n=$(ls "$work/$set" | wc -l)
    curl_config "$work/$set" "$up" get >"$work/$set-up.cfg"
    curl_config "$work/$set" "$front" get >"$work/$set-front.cfg"
    add "$set-direct" "$(ms_per "$(run_curl "$work/$set-up.cfg")" "$n")"
    add "$set-through" "$(ms_per "$(run_curl "$work/$set-front.cfg")" "$n")"
    add "$set-local" "$(ms_per "$(run_curl "$work/$set-front.cfg")" "$n")"
  done
  stop_all
  # --- upload burst -------------------------------------------------------------------
  rm -rf "$work/up" "$work/front"
  serve up
  up=$url
  serve front --upstream "$up"
  front=$url
  curl_config "$work/burst" "$front" put >"$work/burst-behind.cfg"
  t0=$(now)
  run_curl "$work/burst-behind.cfg" >"$work/burst-put.s"
  add burst-behind "$(ms_per "$(cat "$work/burst-put.s")" "$burst")"
  for _ in $(seq 6000); do [ "$(queue_length "$front")" = 0 ] && break; sleep 0.05; done
  [ "$(queue_length "$front")" = 0 ] || { echo "the queue did not drain" >&2; exit 1; }
  add drain "$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')"
  stop_all
  rm -rf "$work/up" "$work/front"
  serve up
  up=$url
  serve front --upstream "$up" --upstream-write through
  curl_config "$work/burst" "$url" put >"$work/burst-through.cfg"
  add burst-through "$(ms_per "$(run_curl "$work/burst-through.cfg")" "$burst")"
  stop_all
done

med() { printf '%s' "${samples[$1]}" | median; }
printf '%s, %s rounds, one request at a time over one connection\n' \
  "$("$forge" --version 2>/dev/null | head -1)" "$rounds"
printf '%-34s %12s %12s %12s\n' "GET (ms per blob)" "upstream" "read-through" "local hit"
printf '%-34s %12s %12s %12s\n' "4 KiB x $count" "$(med small-direct)" "$(med small-through)" "$(med small-local)"
printf '%-34s %12s %12s %12s\n' "1 MiB x $((count / 10))" "$(med big-direct)" "$(med big-through)" "$(med big-local)"
printf '%-34s %12s %12s\n' "PUT burst of $burst x 1 KiB" "write-behind" "write-through"
printf '%-34s %12s %12s\n' "  ms per PUT (client-visible)" "$(med burst-behind)" "$(med burst-through)"
printf '%-34s %12s\n' "  seconds until the queue drained" "$(med drain)"
