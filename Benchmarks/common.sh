# Sourced by the benchmark scripts: what several of them need, written once.

# BIN: the swiftdock to measure. SWIFTDOCK_BENCH_BIN names an existing binary (a debug binary
# only checks that a script works; its numbers are not the ones to report); else a fresh
# release build. Every release build here links the Swift runtime and Foundation statically
# (`--static-swift-stdlib`): the dynamic loader's symbol binding for their 16 shared libraries
# was half of each process start (12 -> 6 ms of CPU for the sandbox helper's exec, 15 -> 10 ms
# for `swiftdock --version`; issue 13). All scripts use the same flags so the release build
# directory is not rebuilt from scratch when switching between them.
bench_binary() {
  if [ -n "${SWIFTDOCK_BENCH_BIN:-}" ]; then
    BIN=$SWIFTDOCK_BENCH_BIN
  else
    swift build -c release --static-swift-stdlib --product swiftdock 2>&1 | tail -1
    BIN=$(swift build -c release --show-bin-path)/swiftdock
  fi
}

# A CNCF registry on a free loopback port, with fresh storage under $WORK at each start.
# REG (host:port) is picked when this file is sourced, so it holds in subshells too;
# REGISTRY_PID is set while it runs (the caller's EXIT trap kills it if set).
# A free loopback port (the kernel's pick).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REGISTRY_PID=
REG=127.0.0.1:$(free_port)
start_registry() {
  rm -rf "$WORK/registry"; mkdir -p "$WORK/registry"
  printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n' \
    "$WORK/registry" "$REG" > "$WORK/registry.yml"
  docker-registry serve "$WORK/registry.yml" >/dev/null 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 100); do curl -sf "http://$REG/v2/" >/dev/null && return; sleep 0.05; done
  echo "registry did not start" >&2; exit 1
}
stop_registry() { kill "$REGISTRY_PID"; wait "$REGISTRY_PID" 2>/dev/null || true; REGISTRY_PID=; }

# On exit: the registry and the rate-limit proxy (PROXY_PID) if running, and $WORK.
PROXY_PID=
bench_cleanup() {
  [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
  wait 2>/dev/null || true; rm -rf "$WORK"
}
