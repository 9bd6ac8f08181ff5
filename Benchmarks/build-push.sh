#!/bin/bash
# `build --push` (layers uploaded while they are compressed) against `build` then `push` of the
# same Dockerfile in the same run, to a loopback CNCF docker-registry (fresh storage and a fresh
# store for every measurement, page cache warm for all). The context: the benchmark tree
# (Benchmarks/make-tree.sh, >= 500 MB, 32k files) plus 8 000 small files and 100 MB of random
# data, about 600 MB in 40k files, in one COPY. Also `--output type=registry` (no store copy).
# Issue 12's target: build --push <= 0.80 of build + push (the floor is about build / (build +
# push), 0.76 on 2 cores). Release build; SOURCE_DATE_EPOCH fixed, so all three push the same
# manifest digest (checked). Each row also gives --output type=registry against build alone;
# under it, the CPU time (user+sys) of each command and the load average: on a shared machine
# wall times vary run to run, CPU time holds.
# With UPLINK_MB_S, a second table does the same through Benchmarks/rate-limit-proxy.py, which
# lets UPLINK_MB_S MB a second from client to registry: a model of a real uplink, labelled so,
# not the issue's loopback comparison.
# usage: [SWIFTDOCK_BENCH_BIN=…] Benchmarks/build-push.sh [TREE_DIR] [RUNS] [UPLINK_MB_S]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bench  # bc, time
TREE=${1:-/tmp/swiftdock-bench-tree}
RUNS=${2:-3}
UPLINK=${3:-}
command -v docker-registry >/dev/null || { echo "needs docker-registry (scripts/setup.sh)" >&2; exit 2; }
[ -d "$TREE" ] || Benchmarks/make-tree.sh "$TREE"
. Benchmarks/common.sh
bench_binary
WORK=/tmp/swiftdock-bench-push-$$; mkdir -p "$WORK"
trap bench_cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000

CTX=$WORK/ctx; mkdir -p "$CTX"
cp -a "$TREE" "$CTX/tree"
python3 - "$CTX/tree/extra" <<'PY'
import os, random, sys
root = sys.argv[1]; rng = random.Random(12)
for d in range(80):
    sub = os.path.join(root, f"d{d:02d}"); os.makedirs(sub)
    for f in range(100):
        with open(os.path.join(sub, f"f{f:03d}.txt"), "wb") as fh:
            fh.write((f"line {d} {f} " * rng.randint(4, 400)).encode())
with open(os.path.join(root, "random.bin"), "wb") as fh:
    fh.write(rng.randbytes(100 << 20))
PY
printf 'FROM scratch\nCOPY tree /tree\n' > "$CTX/Dockerfile"
echo "context: $(find "$CTX/tree" -type f | wc -l) files, $(du -sm "$CTX/tree" | cut -f1) MB; $(nproc) cores"


# seconds CMD…: wall time; output kept in $WORK/last.out and .err; CPU time (user+sys) of the
# last measurement in $WORK/cpu; a failure stops the benchmark.
seconds() {
  /usr/bin/time -o "$WORK/time" -f "%e %U %S" "$@" >"$WORK/last.out" 2>"$WORK/last.err" \
    || { echo "failed: $* ($(tail -n 2 "$WORK/last.err"))" >&2; exit 1; }
  tail -n 1 "$WORK/time" | awk '{ printf "%.2f", $2 + $3 }' > "$WORK/cpu"
  tail -n 1 "$WORK/time" | cut -d' ' -f1
}
# The manifest digest of the push's summary line (`TAG: digest: sha256:… size: N`).
digest_of() { cat "$WORK/last.out" "$WORK/last.err" | grep -o 'digest: sha256:[0-9a-f]*' | tail -1 | cut -d' ' -f2; }
fresh_store() { rm -rf "$WORK/store"; export SWIFTDOCK_HOME=$WORK/store; }
ratio() { echo "$1 / $2" | bc -l; }

# Warm the page cache (and check the tools) once, untimed.
fresh_store; "$BIN" build -q "$CTX" >/dev/null

# measure TARGET: RUNS rows of build, push, build --push, --output type=registry to TARGET
# (host:port of the registry, or of the proxy in front of it).
measure() {
  local target=$1 run b bc p pc d1 bp bpc d2 o oc d3 sum
  printf '%-4s %8s %8s %8s %12s %6s %14s %6s %8s\n' run build push sum "build --push" ratio \
    "type=registry" ratio "/build"
  for run in $(seq "$RUNS"); do
    fresh_store; start_registry
    b=$(seconds "$BIN" build -t "$target/bench/a:1" "$CTX"); bc=$(cat "$WORK/cpu")
    p=$(seconds "$BIN" push "$target/bench/a:1"); pc=$(cat "$WORK/cpu")
    d1=$(digest_of)
    stop_registry
    fresh_store; start_registry
    bp=$(seconds "$BIN" build --push -t "$target/bench/b:1" "$CTX"); bpc=$(cat "$WORK/cpu")
    d2=$(digest_of)
    stop_registry
    fresh_store; start_registry
    o=$(seconds "$BIN" build --output "type=registry,name=$target/bench/c:1" "$CTX"); oc=$(cat "$WORK/cpu")
    d3=$(digest_of)
    stop_registry
    [ "$d2" = "$d3" ] || { echo "build --push ($d2) and type=registry ($d3) pushed different images" >&2; exit 1; }
    [ "$d1" = "$d2" ] || { echo "build+push ($d1) and build --push ($d2) pushed different images" >&2; exit 1; }
    sum=$(echo "$b + $p" | bc -l)
    printf '%-4s %7.2fs %7.2fs %7.2fs %11.2fs %6.3f %13.2fs %6.3f %8.2f\n' "$run" "$b" "$p" "$sum" "$bp" \
      "$(ratio "$bp" "$sum")" "$o" "$(ratio "$o" "$sum")" "$(ratio "$o" "$b")"
    echo "     cpu (user+sys): build ${bc}s, push ${pc}s, build --push ${bpc}s ($(ratio "$bpc" "($bc + $pc)" | cut -c1-4) of build + push), type=registry ${oc}s ($(ratio "$oc" "$bc" | cut -c1-4) of build); load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
}

echo "loopback registry:"
measure "$REG"
if [ -n "$UPLINK" ]; then
  PROXY=127.0.0.1:$(free_port)
  python3 Benchmarks/rate-limit-proxy.py "${PROXY#*:}" "${REG#*:}" "$(echo "$UPLINK * 1000000" | bc)" &
  PROXY_PID=$!
  echo "MODEL, not the issue's comparison: the same registry behind a ${UPLINK} MB/s uplink (Benchmarks/rate-limit-proxy.py):"
  measure "$PROXY"
fi
