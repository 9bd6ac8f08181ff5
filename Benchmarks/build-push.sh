#!/bin/bash
# `build --push` (layers uploaded while they are compressed) against `build` then `push` of the
# same Dockerfile in the same run, to a loopback CNCF docker-registry (fresh storage and a fresh
# store for every measurement, page cache warm for all). The context: the benchmark tree
# (Benchmarks/make-tree.sh, >= 500 MB, 32k files) plus 8 000 small files and 100 MB of random
# data, about 600 MB in 40k files, in one COPY. Also `--output type=registry` (no store copy).
# Issue 12's target: build --push <= 0.80 of build + push (the floor is about build / (build +
# push), 0.76 on 2 cores). Release build; SOURCE_DATE_EPOCH fixed, so all three push the same
# manifest digest (checked). Each row also gives --output type=registry against build alone;
# under it, the CPU time (user+sys) of each command and the load average. On this shared VM
# both swing between runs minutes apart (the same build's CPU 4.0-5.5 s; the host also pages
# out page cache unused for a minute, DAMON `pageout`): read the medians, not one run.
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
# A fresh store before each measured command, then `sync`: the previous command's dirty pages
# (a 380 MB layer, the registry's copy) and the removal's discards (ext4 mounted `discard`) are
# written out before the clock starts, not charged to whichever command comes next.
fresh_store() { rm -rf "$WORK/store"; export SWIFTDOCK_HOME=$WORK/store; sync; }
ratio() { echo "$1 / $2" | bc -l; }

# Warm the page cache (and check the tools) once, untimed.
fresh_store; "$BIN" build -q "$CTX" >/dev/null

# One measurement each, on a fresh store and a fresh registry: `build` then `push` (b, p),
# `build --push` (bp), `--output type=registry` (o); their CPU times in bc, pc, bpc, oc and the
# pushed manifests' digests in d1, d2, d3.
build_then_push() {
  fresh_store; start_registry
  b=$(seconds "$BIN" build -t "$1/bench/a:1" "$CTX"); bc=$(cat "$WORK/cpu")
  p=$(seconds "$BIN" push "$1/bench/a:1"); pc=$(cat "$WORK/cpu")
  d1=$(digest_of)
  stop_registry
}
build_push() {
  fresh_store; start_registry
  bp=$(seconds "$BIN" build --push -t "$1/bench/b:1" "$CTX"); bpc=$(cat "$WORK/cpu")
  d2=$(digest_of)
  stop_registry
}
output_registry() {
  fresh_store; start_registry
  o=$(seconds "$BIN" build --output "type=registry,name=$1/bench/c:1" "$CTX"); oc=$(cat "$WORK/cpu")
  d3=$(digest_of)
  stop_registry
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure TARGET: RUNS rows of build, push, build --push, --output type=registry to TARGET
# (host:port of the registry, or of the proxy in front of it). Odd runs measure build then push
# first, even runs build --push first, so neither side always follows the other's cleanup.
# Wall times on this shared machine swing +-0.1 of the ratio between runs minutes apart, so the
# summary gives the medians over the runs and their ratio beside each run's own.
measure() {
  local target=$1 run b bc p pc d1 bp bpc d2 o oc d3 sum rows=$WORK/rows
  : > "$rows"
  printf '%-4s %8s %8s %8s %12s %6s %14s %6s %8s\n' run build push sum "build --push" ratio \
    "type=registry" ratio "/build"
  for run in $(seq "$RUNS"); do
    if [ $((run % 2)) = 1 ]; then
      build_then_push "$target"; build_push "$target"; output_registry "$target"
    else
      build_push "$target"; output_registry "$target"; build_then_push "$target"
    fi
    [ "$d2" = "$d3" ] || { echo "build --push ($d2) and type=registry ($d3) pushed different images" >&2; exit 1; }
    [ "$d1" = "$d2" ] || { echo "build+push ($d1) and build --push ($d2) pushed different images" >&2; exit 1; }
    sum=$(echo "$b + $p" | bc -l)
    echo "$b $p $sum $bp $o $(ratio "$bp" "$sum") $(ratio "$o" "$sum")" >> "$rows"
    printf '%-4s %7.2fs %7.2fs %7.2fs %11.2fs %6.3f %13.2fs %6.3f %8.2f\n' "$run" "$b" "$p" "$sum" "$bp" \
      "$(ratio "$bp" "$sum")" "$o" "$(ratio "$o" "$sum")" "$(ratio "$o" "$b")"
    echo "     cpu (user+sys): build ${bc}s, push ${pc}s, build --push ${bpc}s ($(ratio "$bpc" "($bc + $pc)" | cut -c1-4) of build + push), type=registry ${oc}s ($(ratio "$oc" "$bc" | cut -c1-4) of build); load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  local mb mp ms mbp mo
  mb=$(cut -d' ' -f1 "$rows" | median); mp=$(cut -d' ' -f2 "$rows" | median); ms=$(cut -d' ' -f3 "$rows" | median)
  mbp=$(cut -d' ' -f4 "$rows" | median); mo=$(cut -d' ' -f5 "$rows" | median)
  printf 'median %6.2fs %7.2fs %7.2fs %11.2fs %6.3f %13.2fs %6.3f   (medians of the runs; their ratio)\n' \
    "$mb" "$mp" "$ms" "$mbp" "$(ratio "$mbp" "$ms")" "$mo" "$(ratio "$mo" "$ms")"
  echo "       build --push / (build + push): median of the runs' ratios $(cut -d' ' -f6 "$rows" | median | cut -c1-5)," \
    "$(awk '$6 <= 0.80' "$rows" | wc -l) of $RUNS runs <= 0.80; type=registry $(cut -d' ' -f7 "$rows" | median | cut -c1-5)," \
    "$(awk '$7 <= 0.80' "$rows" | wc -l) of $RUNS <= 0.80"
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
