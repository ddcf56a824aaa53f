#!/usr/bin/env bash
# `forge agent` vs the CLI doing the work itself, on make_tree.py trees:
#   scan --since after 100 modified files: through the agent's socket / --no-agent (this
#     process syncs with the agent's watcher through a cookie and reads the index itself) /
#     --no-agent --full (a walk)
#   hash of every file of the tree: through the agent (warm) / --no-agent
#   agent RSS after both (VmRSS).
# Median of $RUNS runs (default 5), warm page cache.
#   benchmarks/agent_compare.sh [FILES...]     default: 100000
set -euo pipefail
cd "$(dirname "$0")/.."
forge=$PWD/build/default/cli/forge
runs=${RUNS:-5}
sizes=("${@:-100000}")
sizes=(${sizes[@]})

. benchmarks/lib.sh

work=$(mktemp -d /tmp/forge-agent-bench.XXXXXX)
agent_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

for n in "${sizes[@]}"; do
  tree=/tmp/forge-agent-tree-$n
  [ -d "$tree" ] || python3 benchmarks/make_tree.py --files "$n" --seed 42 --out "$tree" >/dev/null
  (cd "$tree" && find . -type f -print0 | xargs -0 cat > /dev/null)
  socket=$work/run/agent.sock
  export FORGE_AGENT_SOCKET=$socket XDG_CACHE_HOME=$work/cache
  printf '{"version": 1, "socket": "%s", "store_dir": "%s", "workspaces": ["%s"]}\n' \
    "$socket" "$work/store" "$tree" > "$work/agent.json"
  t0=$(now)
  "$forge" agent --config "$work/agent.json" 2>"$work/agent.log" &
  agent_pid=$!
  until "$forge" scan "$tree" --since x --json 2>/dev/null | grep -q '"backend":"agent"'; do
    kill -0 "$agent_pid" || { cat "$work/agent.log"; exit 1; }
    sleep 0.1
  done
  ready=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')
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
  "$forge" hash "$tree" >/dev/null  # warms the agent's hashes
  hash_agent=$(timed "true" "$forge hash $tree")
  hash_local=$(timed "true" "$forge hash --no-agent $tree")
  rss_kb=$(awk '/VmRSS/ {print $2}' /proc/"$agent_pid"/status)
  kill -TERM "$agent_pid"; wait "$agent_pid"; agent_pid=
  cat <<JSON
{"files": $n, "runs": $runs, "agent_ready_s": $ready,
 "since_100_changes_s": {"agent": $since_agent, "no_agent_cookie_sync": $since_local, "no_agent_walk": $since_walk},
 "hash_all_files_s": {"agent_warm": $hash_agent, "no_agent": $hash_local},
 "agent_rss_mib": $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')}
JSON
done
