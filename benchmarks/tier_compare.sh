#!/usr/bin/env bash
# The upstream tier, side by side in one run (issue 13). Two kinds of upstream, each warm (it
# holds every blob) in front of F, a `forge serve` with an empty store:
#   forge  U, another `forge serve` on loopback (F runs with --upstream http://U)
#   s3     a bucket on Ceph's RADOS Gateway, a one-node cluster on loopback started by
#          scripts/s3-test-server.sh (F runs with --upstream s3://BUCKET/bench); skipped, with
#          a line saying so, when radosgw is not installed or S3=0
# and for each:
#   read-through  GET of COUNT 4 KiB and COUNT/10 1 MiB blobs through F with its local tier
#                 empty (each a miss read through from the upstream, verified, stored), vs
#                 the same GETs from the upstream directly (curl; against S3 with curl's own
#                 SigV4), then through F again (local hits)
#   upload burst  BURST 1 KiB blobs PUT to F: client-visible time per PUT with write-behind
#                 (the default) and the time until its queue has drained to the upstream, vs
#                 --upstream-write through (each PUT uploads before it is answered)
# GETs and PUTs go one at a time over one keep-alive connection (one curl process per set);
# figures are medians of ROUNDS runs, each on fresh stores (and a fresh bucket).
# Usage: benchmarks/tier_compare.sh [build/default/cli/forge]   (env: ROUNDS=3 COUNT=500
#        BURST=10000 S3=auto|0)
set -euo pipefail
cd "$(dirname "$0")/.."
. benchmarks/lib.sh
forge=$(realpath "${1:-build/default/cli/forge}")
rounds=${ROUNDS:-3}
count=${COUNT:-500}
burst=${BURST:-10000}
bench_work forge-tier-bench
use_s3=0
if [ "${S3:-auto}" != 0 ] && command -v radosgw >/dev/null; then use_s3=1; fi
# The cluster is stopped (rgw, osd, mon) before bench_cleanup removes $work.
trap '[ "$use_s3" = 0 ] || scripts/s3-test-server.sh stop "$work/ceph" >/dev/null 2>&1; bench_cleanup' EXIT

# serve NAME ARGS...: starts `forge serve` on a free port over $work/NAME (made fresh); its
# URL in $url. stop NAME stops it.
declare -A serve_pids
serve() {
  local name=$1
  shift
  rm -rf "${work:?}/$name" "$work/$name.port"
  "$forge" serve --dir "$work/$name" --no-grpc --no-fsync --http-port 0 \
    --port-file "$work/$name.port" "$@" 2>"$work/$name.log" &
  stop_on_exit $!
  serve_pids[$name]=$!
  for _ in $(seq 200); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/$name.port")"
}
stop() {
  kill -TERM "${serve_pids[$1]}" 2>/dev/null && wait "${serve_pids[$1]}" 2>/dev/null || true
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
# (MODE get: downloads to /dev/null; put: uploads the file; s3get / s3put: the same against
# S3, signed with curl's SigV4 and the x-amz-content-sha256 header RGW requires).
curl_config() {
  local file
  case $3 in
    s3get) printf 'aws-sigv4 = "aws:amz:us-east-1:s3"\nuser = "%s:%s"\nheader = "x-amz-content-sha256: %s"\n' \
             "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ;;
    s3put) printf 'aws-sigv4 = "aws:amz:us-east-1:s3"\nuser = "%s:%s"\nheader = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\n' \
             "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" ;;
  esac
  for file in "$1"/*; do
    case $3 in
      put | s3put) printf 'url = "%s/cas/%s"\nupload-file = "%s"\noutput = "/dev/null"\n' "$2" "${file##*/}" "$file" ;;
      *) printf 'url = "%s/cas/%s"\noutput = "/dev/null"\n' "$2" "${file##*/}" ;;
    esac
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

# read_through KIND UP_BASE UP_MODE FRONT_ARGS...: GETs of both sets from the warm upstream
# directly (curl_config mode UP_MODE at UP_BASE), then through a fresh F with FRONT_ARGS,
# twice (read-through, then local hits).
read_through() {
  local kind=$1 base=$2 mode=$3 set n
  shift 3
  serve front "$@"
  for set in small big; do
    n=$(ls "$work/$set" | wc -l)
    curl_config "$work/$set" "$base" "$mode" >"$work/$set-up.cfg"
    curl_config "$work/$set" "$url" get >"$work/$set-front.cfg"
    add "$kind-$set-direct" "$(ms_per "$(run_curl "$work/$set-up.cfg")" "$n")"
    add "$kind-$set-through" "$(ms_per "$(run_curl "$work/$set-front.cfg")" "$n")"
    add "$kind-$set-local" "$(ms_per "$(run_curl "$work/$set-front.cfg")" "$n")"
  done
  stop front
}
# burst KIND WRITE FRONT_ARGS...: the PUT burst through a fresh F (--upstream-write WRITE)
# in front of an empty upstream that FRONT_ARGS name; with WRITE=behind also the time from
# the first PUT until the queue has drained.
burst() {
  local kind=$1 write=$2 t0
  shift 2
  serve front "$@" --upstream-write "$write"
  curl_config "$work/burst" "$url" put >"$work/burst.cfg"
  t0=$(now)
  run_curl "$work/burst.cfg" >"$work/burst-put.s"
  add "$kind-burst-$write" "$(ms_per "$(cat "$work/burst-put.s")" "$burst")"
  if [ "$write" = behind ]; then
    for _ in $(seq 6000); do [ "$(queue_length "$url")" = 0 ] && break; sleep 0.05; done
    [ "$(queue_length "$url")" = 0 ] || { echo "the $kind queue did not drain" >&2; exit 1; }
    add "$kind-drain" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')"
  fi
  stop front
}
s3_curl() {  # ARGS...: curl signed for the RGW user, with an empty body's SHA-256
  curl -s -f --aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$@"
}

if [ "$use_s3" = 1 ]; then
  scripts/s3-test-server.sh start "$work/ceph" >"$work/s3.env"
  set -a
  . "$work/s3.env"
  set +a
  s3_args=(--s3-endpoint "$S3_ENDPOINT" --s3-region us-east-1)
fi
for round in $(seq "$rounds"); do
  # --- another forge serve as the upstream --------------------------------------------
  serve up
  up=$url
  for set in small big; do
    curl_config "$work/$set" "$up" put >"$work/$set-up-put.cfg"
    run_curl "$work/$set-up-put.cfg" >/dev/null
  done
  read_through forge "$up" get --upstream "$up"
  for write in behind through; do
    stop up
    serve up  # empty
    burst forge "$write" --upstream "$url"
  done
  stop up
  # --- an S3 bucket as the upstream ---------------------------------------------------
  [ "$use_s3" = 1 ] || continue
  bucket=tier-bench-$round
  s3_curl -o /dev/null -X PUT "$S3_ENDPOINT/$bucket"
  for set in small big; do
    curl_config "$work/$set" "$S3_ENDPOINT/$bucket/warm" s3put >"$work/$set-s3-put.cfg"
    run_curl "$work/$set-s3-put.cfg" >/dev/null
  done
  read_through s3 "$S3_ENDPOINT/$bucket/warm" s3get --upstream "s3://$bucket/warm" "${s3_args[@]}"
  for write in behind through; do
    burst s3 "$write" --upstream "s3://$bucket/burst-$write" "${s3_args[@]}"
  done
done

med() { printf '%s' "${samples[$1]}" | median; }
printf '%s, %s rounds, one request at a time over one connection\n' \
  "$("$forge" --version 2>/dev/null | head -1)" "$rounds"
kinds=forge
if [ "$use_s3" = 1 ]; then kinds="forge s3"; else echo "(s3: skipped: radosgw is not installed or S3=0)"; fi
for kind in $kinds; do
  printf '%-34s %12s %12s %12s %10s %10s\n' "$kind: GET (ms per blob)" "upstream" "read-through" \
    "local hit" "thru/up" "up/local"
  for set in small big; do
    label="4 KiB x $count"
    [ "$set" = small ] || label="1 MiB x $((count / 10))"
    d=$(med "$kind-$set-direct") t=$(med "$kind-$set-through") l=$(med "$kind-$set-local")
    printf '%-34s %12s %12s %12s %10s %10s\n' "  $label" "$d" "$t" "$l" "$(ratio "$t" "$d")" \
      "$(ratio "$d" "$l")"
  done
  printf '%-34s %12s %12s\n' "$kind: PUT burst of $burst x 1 KiB" "write-behind" "write-through"
  printf '%-34s %12s %12s\n' "  ms per PUT (client-visible)" "$(med "$kind-burst-behind")" \
    "$(med "$kind-burst-through")"
  printf '%-34s %12s\n' "  seconds until the queue drained" "$(med "$kind-drain")"
done
