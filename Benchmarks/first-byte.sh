#!/bin/bash
# Time to the first uploaded layer byte of `build --push` (issue 12: the COPY's walk and plan
# used to come before any compression): from the command's start to the moment 256 KiB have
# gone to the registry (Benchmarks/rate-limit-proxy.py notes it), on the context of
# Benchmarks/build-push.sh, alternating binaries run by run. Also each run's wall and CPU time.
# usage: Benchmarks/first-byte.sh TREE_DIR RUNS [UPLINK_MB_S] BIN...   (UPLINK_MB_S 0: unlimited)
set -euo pipefail
cd "$(dirname "$0")/.."
TREE=$1; RUNS=$2; UPLINK=${3:-0}; shift 3
[ "$UPLINK" = 0 ] && UPLINK=100000
WORK=/tmp/swiftdock-bench-first-$$; mkdir -p "$WORK"
. Benchmarks/common.sh
trap bench_cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000
CTX=$WORK/ctx; mkdir -p "$CTX"
cp -a "$TREE" "$CTX/tree"
printf 'FROM scratch\nCOPY tree /tree\n' > "$CTX/Dockerfile"
echo "context: $(find "$CTX/tree" -type f | wc -l) files, $(du -sm "$CTX/tree" | cut -f1) MB; uplink ${UPLINK} MB/s"
"$1" build -q "$CTX" >/dev/null  # page cache warm
PROXY=127.0.0.1:$(free_port)
printf '%-4s %-40s %10s %8s %8s\n' run binary first-byte wall cpu
for run in $(seq "$RUNS"); do
  for bin in "$@"; do
    rm -rf "$WORK/store" "$WORK/first"; export SWIFTDOCK_HOME=$WORK/store
    start_registry
    python3 Benchmarks/rate-limit-proxy.py "${PROXY#*:}" "${REG#*:}" "$(echo "$UPLINK * 1000000" | bc)" "$WORK/first" &
    PROXY_PID=$!
    for _ in $(seq 50); do curl -sf "http://$PROXY/v2/" >/dev/null && break; sleep 0.05; done
    rm -f "$WORK/first"
    t0=$(date +%s.%N)
    /usr/bin/time -o "$WORK/time" -f "%e %U %S" "$bin" build --push -t "$PROXY/bench/a:1" "$CTX" >/dev/null 2>"$WORK/err" \
      || { echo "failed: $(tail -2 "$WORK/err")" >&2; exit 1; }
    first=$(echo "$(cat "$WORK/first") - $t0" | bc -l)
    read -r wall user sys < "$WORK/time"
    printf '%-4s %-40s %9.3fs %7.2fs %7.2fs\n' "$run" "$bin" "$first" "$wall" "$(echo "$user + $sys" | bc -l)"
    kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; PROXY_PID=
    stop_registry
  done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
