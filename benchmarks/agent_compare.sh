#!/usr/bin/env bash
# `forge agent` vs the CLI doing the work itself, on make_tree.py trees:
#   scan --since after 100 modified files: through the agent's socket / --no-agent (this
#     process syncs with the agent's watcher through a cookie and reads the index itself) /
#     --no-agent --full (a walk)
#   hash of every file of the tree: through the agent (warm) / --no-agent
#   agent RSS (VmRSS) once it is ready and after both.
# With WORKSPACES=2 the agent watches a second tree of the same size (another seed) as well,
# hashes it too, and the RSS figures cover both (the issue's "two 100k-file workspaces").
# Median of $RUNS runs (default 5), warm page cache.
#   [WORKSPACES=2] benchmarks/agent_compare.sh [FILES...]     default: 100000
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$PWD/build/default/cli/forge
runs=${RUNS:-5}
workspaces=${WORKSPACES:-1}
case $workspaces in 1 | 2) ;; *) echo "WORKSPACES must be 1 or 2" >&2; exit 2 ;; esac
sizes=("${@:-100000}")
sizes=(${sizes[@]})

. benchmarks/lib.sh

bench_work forge-agent-bench

for n in "${sizes[@]}"; do
  tree=/tmp/forge-agent-tree-$n
  bench_tree "$tree" "$n" 42
  trees=("$tree")
  if [ "$workspaces" = 2 ]; then
    trees+=("/tmp/forge-agent-tree-$n-b")
    bench_tree "${trees[1]}" "$n" 43
  fi
  socket=$work/run/agent.sock
  export FORGE_AGENT_SOCKET=$socket XDG_CACHE_HOME=$work/cache
  listed=$(printf '"%s", ' "${trees[@]}")
  printf '{"version": 1, "socket": "%s", "store_dir": "%s", "workspaces": [%s]}\n' \
    "$socket" "$work/store" "${listed%, }" > "$work/agent.json"
  t0=$(now)
  "$forge" agent --config "$work/agent.json" 2>"$work/agent.log" &
  agent_pid=$!
  stop_on_exit "$agent_pid"
  for t in "${trees[@]}"; do
    until "$forge" scan "$t" --since x --json 2>/dev/null | grep -q '"backend":"agent"'; do
      kill -0 "$agent_pid" || { cat "$work/agent.log"; exit 1; }
      sleep 0.1
    done
  done
  ready=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')
  rss_ready_kb=$(awk '/VmRSS/ {print $2}' /proc/"$agent_pid"/status)
  cursor() { "$forge" scan "$tree" --since x --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"])'; }
  modify="find $tree -type f | sort | head -100 | while read f; do echo x >> \"\$f\"; done"
  # Each run: 100 new modifications, then the query since the cursor taken before them.
  since_agent=$(timed "c=\$($forge scan $tree --since x --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cursor\"])'); echo \$c > $work/c; $modify; sleep 0.3" \
    "$forge scan $tree --json --since \$(cat $work/c)")
  since_local=$(timed "c=\$($forge scan $tree --since x --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cursor\"])'); echo \$c > $work/c; $modify; sleep 0.3" \
    "$forge scan $tree --json --no-agent --since \$(cat $work/c)")
  since_walk=$(timed "c=\$($forge scan $tree --since x --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cursor\"])'); echo \$c > $work/c; $modify; sleep 0.3" \
    "$forge scan $tree --json --no-agent --full --since \$(cat $work/c)")
  sleep 0.2
  for t in "${trees[@]}"; do "$forge" hash "$t" >/dev/null; done  # warms the agent's hashes
  hash_agent=$(timed "true" "$forge hash $tree")
  hash_local=$(timed "true" "$forge hash --no-agent $tree")
  rss_kb=$(awk '/VmRSS/ {print $2}' /proc/"$agent_pid"/status)
  kill -TERM "$agent_pid"; wait "$agent_pid"
  cat <<JSON
{"files": $n, "workspaces": $workspaces, "runs": $runs, "agent_ready_s": $ready,
 "since_100_changes_s": {"agent": $since_agent, "no_agent_cookie_sync": $since_local, "no_agent_walk": $since_walk},
 "hash_all_files_s": {"agent_warm": $hash_agent, "no_agent": $hash_local},
 "agent_rss_mib": {"ready": $(awk -v k="$rss_ready_kb" 'BEGIN {printf "%.1f", k / 1024}'), "after_hashing": $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')}}
JSON
done
