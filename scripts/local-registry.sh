#!/usr/bin/env bash
# An open CNCF registry (Debian's docker-registry) on a free loopback port, for the main job.
#
#   scripts/local-registry.sh start STATE_DIR   # prints 127.0.0.1:PORT; idempotent
#   scripts/local-registry.sh stop  STATE_DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
mkdir -p "$2"
state=$(cd "$2" && pwd)

running() { [ -f "$state/pid" ] && tr '\0' ' ' <"/proc/$(cat "$state/pid")/cmdline" 2>/dev/null | grep -q docker-registry; }

case $1 in
start)
  if running; then cat "$state/address"; exit 0; fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$state/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $state/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
  nohup docker-registry serve "$state/config.yml" >"$state/registry.log" 2>&1 </dev/null &
  echo $! >"$state/pid"
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { echo "127.0.0.1:$port" | tee "$state/address"; exit 0; }
    sleep 0.1
  done
  echo "local-registry: docker-registry did not answer on 127.0.0.1:$port (log: $state/registry.log)" >&2
  exit 1
  ;;
stop)
  if running; then kill "$(cat "$state/pid")"; fi
  rm -f "$state/pid" "$state/address"
  ;;
*) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
