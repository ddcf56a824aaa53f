#!/usr/bin/env bash
# A one-node Ceph cluster with the RADOS Gateway on 127.0.0.1: a real S3 server for the
# s3:// upstream tests. Everything lives in DIR; nothing outside it is touched.
#
#   scripts/s3-test-server.sh start DIR   prints S3_ENDPOINT=..., AWS_ACCESS_KEY_ID=...,
#                                         AWS_SECRET_ACCESS_KEY=... once S3 answers
#   scripts/s3-test-server.sh stop DIR    stops rgw, then the OSD, then the mon
#
# One mon, one OSD on memstore (RAM, no disk image), radosgw with the beast frontend, no mgr,
# pool size 1, cephx off. Settings that are not optional (each found the hard way):
# - `ms mon client mode = crc`: with auth off, radosgw never connects to the mon otherwise.
# - paxos propose interval / min wait lowered: the first start takes ~15 s without.
# - mon data avail crit lowered: the mon stops itself on a nearly full disk otherwise.
# - stop order rgw -> osd -> mon: radosgw hangs when the mon goes first.
# - ready = an S3 ListAllMyBucketsResult, not any 200 (beast answers before RGW is usable).
# Needs ceph-mon, ceph-osd, radosgw, ceph-common (scripts/install-deps.sh installs them).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(realpath -m "$2")
conf="$dir/ceph.conf"
access_key=FORGETESTACCESSKEY01
secret_key=forge-test-secret-key-0123456789abcdefgh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop_one() {  # name: SIGTERM, wait up to 10 s, then SIGKILL
  local pidfile="$dir/run/$1.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

if [ "$action" = stop ]; then
  stop_one rgw
  stop_one osd.0
  stop_one mon.a
  exit 0
fi
[ "$action" = start ] || usage

for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
  command -v "$tool" >/dev/null || { echo "s3-test-server: $tool is missing; run scripts/install-deps.sh" >&2; exit 3; }
done
mkdir -p "$dir"/{run,log,mon,osd/ceph-0}
mon_port=$(free_port)
rgw_port=$(free_port)
fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
mon initial members = a
ms bind msgr1 = false
ms bind ipv6 = false
ms bind ipv4 = true
public network = 127.0.0.0/8
ms mon client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
mon data avail crit = 1
mon data avail warn = 2
paxos propose interval = 0.05
paxos min wait = 0.01
[mon.a]
mon data = $dir/mon/ceph-a
public addrv = [v2:127.0.0.1:$mon_port]
[osd.0]
osd data = $dir/osd/ceph-0
public addr = 127.0.0.1
cluster addr = 127.0.0.1
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
CONF

monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >/dev/null 2>&1
daemon() {  # name command...: runs in the foreground of a background job, log in log/
  local name=$1
  shift
  nohup "$@" -f >"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}
daemon mon.a ceph-mon -c "$conf" -i a
osd_id=$(ceph -c "$conf" --connect-timeout 20 osd create 2>/dev/null)
[ "$osd_id" = 0 ] || { echo "s3-test-server: osd create answered '$osd_id'" >&2; exit 1; }
ceph-osd -c "$conf" -i 0 --mkfs >/dev/null 2>&1
daemon osd.0 ceph-osd -c "$conf" -i 0
mkdir -p "$dir/rgw"
daemon rgw radosgw -c "$conf" -n client.rgw
radosgw-admin -c "$conf" user create --uid=forge --display-name=forge \
  --access-key="$access_key" --secret-key="$secret_key" >/dev/null 2>&1 || true

endpoint="http://127.0.0.1:$rgw_port"
for _ in $(seq 600); do
  if curl -s --max-time 2 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access_key:$secret_key" \
      -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
      "$endpoint/" 2>/dev/null | grep -q ListAllMyBucketsResult; then
    echo "S3_ENDPOINT=$endpoint"
    echo "AWS_ACCESS_KEY_ID=$access_key"
    echo "AWS_SECRET_ACCESS_KEY=$secret_key"
    exit 0
  fi
  # The user may not exist yet if the pools were still being created: try again.
  radosgw-admin -c "$conf" user info --uid=forge >/dev/null 2>&1 ||
    radosgw-admin -c "$conf" user create --uid=forge --display-name=forge \
      --access-key="$access_key" --secret-key="$secret_key" >/dev/null 2>&1 || true
  sleep 0.1
done
echo "s3-test-server: no S3 answer from $endpoint after 60 s; logs in $dir/log" >&2
"$0" stop "$dir"
exit 1
