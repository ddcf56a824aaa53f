#!/bin/sh
# Runs inside the fresh Debian 12 root of deb_test.sh, after `apt-get install` of the packages:
# starts `forge agent` with the command line of the packaged systemd user unit
# (/usr/lib/systemd/user/forge-agent.service, %E = $XDG_CONFIG_HOME) as systemd would, waits
# until `forge scan --since` is answered through the agent's socket, then stops it with the
# unit's KillSignal and expects exit 0 (a clean stop). READY=1/STOPPING=1 on $NOTIFY_SOCKET
# are tested by AgentTest (the root has no datagram listener to receive them).
set -eu
unit=/usr/lib/systemd/user/forge-agent.service
test -f "$unit" || { echo "the forge package lacks $unit" >&2; exit 1; }
grep -qx 'Type=notify' "$unit" || { echo "$unit is not Type=notify" >&2; exit 1; }
kill_signal=$(sed -n 's/^KillSignal=SIG//p' "$unit")
export XDG_CONFIG_HOME=/tmp/agent-home/config XDG_RUNTIME_DIR=/tmp/agent-home/run
mkdir -p "$XDG_CONFIG_HOME/forge" /tmp/agent-home/ws
install -d -m 0700 "$XDG_RUNTIME_DIR"
printf 'hello\n' > /tmp/agent-home/ws/a.txt
printf '{"version": 1, "workspaces": ["/tmp/agent-home/ws"], "store_dir": "/tmp/agent-home/store"}\n' \
  > "$XDG_CONFIG_HOME/forge/agent.json"
command=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s#%E#$XDG_CONFIG_HOME#g")
# shellcheck disable=SC2086
$command > /tmp/agent-home/agent.log 2>&1 &
agent=$!
# `forge scan --since` answers through the agent's socket once the agent serves (backend
# "agent"); without it, it would walk the workspace itself (another backend).
answer=
for _ in $(seq 300); do
  answer=$(forge scan /tmp/agent-home/ws --json --since none 2>/dev/null) || true
  case $answer in *'"backend":"agent"'*) break ;; esac
  sleep 0.1
done
case $answer in
  *'"backend":"agent"'*'a.txt'* | *'a.txt'*'"backend":"agent"'*) ;;
  *) echo "the unit's command never answered on its socket: $answer" >&2
     cat /tmp/agent-home/agent.log >&2; exit 1 ;;
esac
kill -s "$kill_signal" "$agent"
status=0
wait "$agent" || status=$?
test "$status" -eq 0 || { echo "forge agent exited $status after SIG$kill_signal" >&2; cat /tmp/agent-home/agent.log >&2; exit 1; }
echo "systemd unit in the fresh root: its command serves the agent socket and stops cleanly"
