#!/usr/bin/env bash
# Forge's HTTP cache vs nginx on loopback, side by side in one run (issue 6):
#   GET of a 4 KiB cached blob   forge /cas/<sha>        vs nginx static file
#   PUT of a 1 MiB body          forge /cas/<sha> (already stored: Bazel's re-upload),
#                                forge /ac/<key> with --ac-raw (full write path), vs nginx
#                                WebDAV PUT
#   GET of a 4 KiB raw entry     forge /ccache/<2>/<rest> (ccache's default subdirs layout,
#                                the raw keyspace)    vs nginx static file at the same path
#   PUT of a 1 MiB raw entry     forge /ccache/<2>/<rest> vs nginx WebDAV PUT
#   forge RSS with 256 concurrent connections.
# Each pair alternates ROUNDS times; the table shows medians and forge/nginx ratios.
# Usage: benchmarks/http_compare.sh [build/default/cli/forge]   (env: ROUNDS=5 DURATION=5s
#        THREADS=2 CONNECTIONS=64). Installs wrk and nginx with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
forge=${1:-build/default/cli/forge}
rounds=${ROUNDS:-5}
duration=${DURATION:-5s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}

for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null; then
    sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk nginx >&2
    break
  fi
done

work=$(mktemp -d /tmp/forge-http-bench.XXXXXX)
cleanup() {
  [ -n "${forge_pid:-}" ] && kill "$forge_pid" 2>/dev/null || true
  [ -n "${raw_pid:-}" ] && kill "$raw_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

head -c 4096 /dev/urandom >"$work/small"
head -c $((1 << 20)) /dev/urandom >"$work/big"
small_sha=$(sha256sum "$work/small" | cut -c1-64)
big_sha=$(sha256sum "$work/big" | cut -c1-64)

# --- nginx: static files + WebDAV PUT, as many workers as forge has threads ----------
raw_key=${small_sha:0:40}  # a ccache key: PREFIX/<first 2 chars>/<rest>
raw_path="ccache/${raw_key:0:2}/${raw_key:2}"
mkdir -p "$work/www/cas" "$work/www/put" "$work/nginx-tmp" "$work/www/$(dirname "$raw_path")"
cp "$work/small" "$work/www/cas/$small_sha"
cp "$work/small" "$work/www/$raw_path"
cat >"$work/nginx.conf" <<CONF
worker_processes $threads;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_max_body_size 2g;
  client_body_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:18080;
    root $work/www;
    location /put/ { dav_methods PUT; create_full_put_path on; }
  }
}
CONF
nginx -c "$work/nginx.conf"

# --- forge: one server for CAS, one with --ac-raw for the full write path ------------
"$forge" serve --dir "$work/store" --no-grpc --no-fsync --threads "$threads" --http-port 0 \
  --port-file "$work/forge.port" 2>"$work/forge.log" &
forge_pid=$!
"$forge" serve --dir "$work/store-raw" --no-grpc --no-fsync --ac-raw --threads "$threads" \
  --http-port 0 --port-file "$work/raw.port" 2>"$work/raw.log" &
raw_pid=$!
for f in forge raw; do
  for _ in $(seq 100); do [ -s "$work/$f.port" ] && break; sleep 0.05; done
done
forge_port=$(python3 -c "import json;print(json.load(open('$work/forge.port'))['http'])")
raw_port=$(python3 -c "import json;print(json.load(open('$work/raw.port'))['http'])")
curl -sf -X PUT --data-binary @"$work/small" "http://127.0.0.1:$forge_port/cas/$small_sha" >/dev/null
curl -sf -X PUT --data-binary @"$work/big" "http://127.0.0.1:$forge_port/cas/$big_sha" >/dev/null
curl -sf -X PUT --data-binary @"$work/small" "http://127.0.0.1:$forge_port/$raw_path" >/dev/null
cmp <(curl -sf "http://127.0.0.1:$forge_port/$raw_path") "$work/small"

cat >"$work/put.lua" <<LUA
local f = io.open("$work/big", "rb")
wrk.method = "PUT"
wrk.body = f:read("*all")
f:close()
LUA

# wrk URL [script] -> "requests_per_second p99_ms"
run_wrk() {
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency ${2:+-s "$2"} "$1")
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}

. benchmarks/lib.sh

declare -A rps p99
record() {  # name "rps p99"
  read -r r p <<<"$2"
  rps[$1]+="$r"$'\n'
  p99[$1]+="$p"$'\n'
}

for round in $(seq "$rounds"); do
  record nginx_get "$(run_wrk "http://127.0.0.1:18080/cas/$small_sha")"
  record forge_get "$(run_wrk "http://127.0.0.1:$forge_port/cas/$small_sha")"
  record nginx_put "$(run_wrk "http://127.0.0.1:18080/put/blob" "$work/put.lua")"
  record forge_put_existing "$(run_wrk "http://127.0.0.1:$forge_port/cas/$big_sha" "$work/put.lua")"
  record forge_put_raw "$(run_wrk "http://127.0.0.1:$raw_port/ac/$big_sha" "$work/put.lua")"
  record nginx_get_ccache "$(run_wrk "http://127.0.0.1:18080/$raw_path")"
  record forge_get_ccache "$(run_wrk "http://127.0.0.1:$forge_port/$raw_path")"
  record forge_put_ccache "$(run_wrk "http://127.0.0.1:$forge_port/ccache/pu/t-entry" "$work/put.lua")"
  echo "round $round/$rounds done" >&2
done

printf '%-22s %14s %10s %12s %12s\n' case "req/s (med)" "p99 ms" "rps/nginx" "p99/nginx"
for name in nginx_get forge_get nginx_put forge_put_existing forge_put_raw nginx_get_ccache \
  forge_get_ccache forge_put_ccache; do
  r=$(printf '%s' "${rps[$name]}" | median)
  p=$(printf '%s' "${p99[$name]}" | median)
  base=nginx_get
  [[ $name == *put* ]] && base=nginx_put
  [[ $name == *get_ccache ]] && base=nginx_get_ccache
  br=$(printf '%s' "${rps[$base]}" | median)
  bp=$(printf '%s' "${p99[$base]}" | median)
  printf '%-22s %14.0f %10.2f %12.2f %12.2f\n' "$name" "$r" "$p" \
    "$(awk -v a="$r" -v b="$br" 'BEGIN {print a/b}')" "$(awk -v a="$p" -v b="$bp" 'BEGIN {print a/b}')"
done

# RSS with 256 concurrent keep-alive connections.
wrk -t"$threads" -c256 -d"$duration" "http://127.0.0.1:$forge_port/cas/$small_sha" >/dev/null
echo "forge peak RSS after 256 connections: $(awk '/VmHWM/ {print $2, $3}' /proc/$forge_pid/status)"
