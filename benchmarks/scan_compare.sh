#!/usr/bin/env bash
# Change-detection benchmark on make_tree.py trees, side by side in one run:
#   cold scan (empty index)    vs `git add -A` in a fresh repo (hashes + writes the index)
#   no-change rescan           vs `git status` with and without core.untrackedCache
#   100 files modified, then scan (no watcher) and `scan --since` after `forge watch
#   --update-index` caught up
#   watchman's initial crawl with content.sha1hex and its `since` query (if installed)
# plus index size on disk and RSS. Median of $RUNS runs (default 5), warm page cache.
#   benchmarks/scan_compare.sh [FILES...]     default: 10000 100000
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$PWD/build/default/cli/forge
runs=${RUNS:-5}
sizes=("${@:-10000 100000}")
sizes=(${sizes[@]})

. benchmarks/lib.sh

for n in "${sizes[@]}"; do
  tree=/tmp/forge-scan-tree-$n
  [ -d "$tree" ] || python3 benchmarks/make_tree.py --files "$n" --seed 42 --out "$tree" >/dev/null
  index=/tmp/forge-scan-index-$n
  gitdir=/tmp/forge-scan-git-$n
  echo "== tree: $n files ($tree), warm cache, median of $runs"
  (cd "$tree" && find . -type f -print0 | xargs -0 cat > /dev/null)
  cold_forge=$(timed "rm -rf $index" "$forge scan --index-dir $index $tree")
  cold_git=$(timed "rm -rf $tree/.git; git -C $tree init -q" "git -C $tree add -A")
  "$forge" scan --index-dir "$index" "$tree" >/dev/null
  sleep 0.2  # let the racy-clean window of the last scan pass
  "$forge" scan --index-dir "$index" "$tree" >/dev/null
  git -C "$tree" -c core.untrackedCache=false status >/dev/null 2>&1
  rescan_forge=$(timed "true" "$forge scan --index-dir $index $tree")
  status_plain=$(timed "true" "git -C $tree -c core.untrackedCache=false status --porcelain")
  git -C "$tree" config core.untrackedCache true
  git -C "$tree" update-index --untracked-cache >/dev/null 2>&1 || true
  git -C "$tree" status >/dev/null 2>&1
  status_cache=$(timed "true" "git -C $tree -c core.untrackedCache=true status --porcelain")
  git -C "$tree" config --unset core.untrackedCache || true
  # 100 files modified, then a full scan (no watcher)
  touch_100="find $tree -type f -not -path '*/.git/*' | sort | head -100 | while read f; do echo x >> \"\$f\"; done"
  modified_scan=$(timed "$touch_100" "$forge scan --index-dir $index $tree")
  # With `forge watch --update-index` running: modify 100 files, then `scan --since` (cookie
  # sync + journal read, no walk). Median wall time of $runs runs, fresh changes each time.
  cursor=$("$forge" scan --json --index-dir "$index" "$tree" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])')
  t0=$(now)
  "$forge" watch --update-index --index-dir "$index" "$tree" >/dev/null 2>&1 &
  watcher=$!
  while ! python3 - "$index" <<'PY' 2>/dev/null; do sleep 0.05; done
import sys, subprocess
out = subprocess.run(["mdb_dump", "-s", "meta", "-p", sys.argv[1]], capture_output=True, text=True).stdout
sys.exit(0 if "watcher_pid" in out else 1)
PY
  t1=$(now)
  watch_ready=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  since_times=()
  for _ in $(seq "$runs"); do
    bash -c "$touch_100"
    t0=$(now); "$forge" scan --since "$cursor" --index-dir "$index" "$tree" >/dev/null 2>&1; t1=$(now)
    since_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  done
  since_watch=$(printf '%s\n' "${since_times[@]}" | median)
  watcher_rss=$(awk '/VmRSS/ {print $2}' /proc/$watcher/status)
  kill -TERM $watcher; wait $watcher || true
  # Watchman (Debian's 4.9, if installed): initial crawl + content.sha1hex of every file,
  # then `since` after 100 modifications, and the server's RSS.
  wm_crawl=n/a; wm_since=n/a; wm_rss=n/a
  if command -v watchman >/dev/null; then
    watchman watch-del-all >/dev/null 2>&1 || true
    q='["query", "'$tree'", {"expression": ["type", "f"], "fields": ["name", "content.sha1hex"]}]'
    t0=$(now)
    watchman watch "$tree" >/dev/null 2>&1
    echo "$q" | watchman -j >/dev/null 2>&1
    t1=$(now)
    wm_crawl=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
    wm_times=()
    for _ in $(seq "$runs"); do
      clock=$(watchman clock "$tree" | python3 -c 'import json,sys; print(json.load(sys.stdin)["clock"])')
      bash -c "$touch_100"
      sq='["query", "'$tree'", {"since": "'$clock'", "expression": ["type", "f"], "fields": ["name", "content.sha1hex"]}]'
      t0=$(now); echo "$sq" | watchman -j >/dev/null 2>&1; t1=$(now)
      wm_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
    done
    wm_since=$(printf '%s\n' "${wm_times[@]}" | median)
    wm_pid=$(watchman get-pid | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    wm_rss=$(awk '/VmRSS/ {print $2}' /proc/$wm_pid/status)
    watchman watch-del "$tree" >/dev/null 2>&1 || true
  fi
  size=$(du -sk "$index" | awk '{print $1}')
  rm -rf "$tree/.git"
  printf '%-44s %10s\n' measurement seconds
  printf '%-44s %10.4f\n' "forge scan, cold (empty index)" "$cold_forge"
  printf '%-44s %10.4f\n' "git add -A, fresh repo" "$cold_git"
  printf '%-44s %10.4f\n' "forge scan, no change" "$rescan_forge"
  printf '%-44s %10.4f\n' "git status, untrackedCache off" "$status_plain"
  printf '%-44s %10.4f\n' "git status, untrackedCache on" "$status_cache"
  printf '%-44s %10.4f\n' "forge scan, 100 files modified" "$modified_scan"
  printf '%-44s %10.4f\n' "forge watch: start until index owned" "$watch_ready"
  printf '%-44s %10.4f\n' "100 modified, scan --since with watcher" "$since_watch"
  printf '%-44s %10s\n' "watchman watch + query content.sha1hex" "$wm_crawl"
  printf '%-44s %10s\n' "100 modified, watchman since query" "$wm_since"
  printf '%-44s %10s\n' "forge index size (KiB)" "$size"
  printf '%-44s %10s\n' "forge watch --update-index RSS (KiB)" "$watcher_rss"
  printf '%-44s %10s\n' "watchman server RSS (KiB)" "$wm_rss"
  echo "ratios: cold forge/git-add $(awk -v a="$cold_forge" -v b="$cold_git" 'BEGIN {printf "%.2f", a / b}'); no-change forge/git-status(off) $(awk -v a="$rescan_forge" -v b="$status_plain" 'BEGIN {printf "%.2f", a / b}'); forge/git-status(on) $(awk -v a="$rescan_forge" -v b="$status_cache" 'BEGIN {printf "%.2f", a / b}')"
done
