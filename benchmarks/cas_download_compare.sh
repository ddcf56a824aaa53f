#!/usr/bin/env bash
# `forge cas download` of a make_tree.py tree (issue 14's figure: 10k files / ~1 GB) against
# the floor, `cp -r` of the same tree:
#   warm local, --hardlink   every blob already in the local store; files hard-linked
#   warm local, copy         the same, each file its own inode (FICLONE / copy_file_range)
#   upstream only            an empty local store, every blob fetched from a `forge serve`
#                            on 127.0.0.1 (--remote; fetched 8 at a time, each verified)
# plus `forge cas upload --remote` of the tree into that empty server, once.
# Median of $RUNS runs (default 3), warm page cache; the destination is removed (untimed)
# before each run, and for "upstream only" the local store too.
#   benchmarks/cas_download_compare.sh [FILES [MEDIAN_KIB]]   default: 10000 64
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$PWD/build/default/cli/forge
runs=${RUNS:-3}
files=${1:-10000}
kib=${2:-64}

. benchmarks/lib.sh

bench_work forge-cas-bench
tree=/tmp/forge-cas-tree-$files-$kib
bench_tree "$tree" "$files" 7 "$kib"
bytes=$(du -sb "$tree" | cut -f1)

"$forge" serve --dir "$work/remote" --no-grpc --no-fsync --http-port 0 \
  --port-file "$work/ports.json" 2>"$work/serve.log" &
serve_pid=$!
stop_on_exit "$serve_pid"
until [ -s "$work/ports.json" ]; do
  kill -0 "$serve_pid" || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
url=http://127.0.0.1:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/ports.json")

t0=$(now)
root=$("$forge" cas upload "$tree" --no-fsync --dir "$work/local" --remote "$url" 2>/dev/null)
upload_remote=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')

out=$work/out
cp_r=$(timed "rm -rf $out" "cp -r $tree $out")
hardlink=$(timed "rm -rf $out" "$forge cas download $root $out --dir $work/local --hardlink")
copy=$(timed "rm -rf $out" "$forge cas download $root $out --dir $work/local")
remote=$(timed "rm -rf $out $work/cold" "$forge cas download $root $out --dir $work/cold --remote $url")
# The last run's tree is checked, so a fast wrong answer cannot pass as a figure.
diff -r --no-dereference "$tree" "$out" >/dev/null

cat <<JSON
{"files": $files, "bytes": $bytes, "runs": $runs,
 "upload_remote_s": $upload_remote,
 "download_s": {"cp_r": $cp_r, "warm_local_hardlink": $hardlink, "warm_local_copy": $copy,
                "upstream_only": $remote},
 "vs_cp_r": {"warm_local_hardlink": $(ratio "$hardlink" "$cp_r"),
             "warm_local_copy": $(ratio "$copy" "$cp_r"),
             "upstream_only": $(ratio "$remote" "$cp_r")}}
JSON
