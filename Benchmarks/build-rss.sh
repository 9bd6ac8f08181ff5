#!/bin/bash
# Peak memory of a build with 20 COPY steps of 50 MB each (incompressible random files, so every
# layer is ~50 MB of gzip and every write runs on all cores): peak RSS by GNU time (`%M`, the
# largest resident set of the process), swiftdock against `buildah bud` (chroot isolation) of the
# same Dockerfile side by side, fresh storage for each. Issue 12's target: swiftdock < 150 MB.
# Layer writes run beside later steps, at most two at once (ImageBuilder's LayerWriteQueue).
# usage: [SWIFTDOCK_BENCH_BIN=…] Benchmarks/build-rss.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bench  # buildah, time
RUNS=${1:-2}
. Benchmarks/common.sh
bench_binary
WORK=/tmp/swiftdock-bench-rss-$$; mkdir -p "$WORK"
B=(buildah --root "$WORK/buildah" --runroot "$WORK/buildah-run" --storage-driver "${BUILDAH_STORAGE_DRIVER:-overlay}")
trap '"${B[@]}" rmi -a -f >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

CTX=$WORK/ctx; mkdir -p "$CTX"
echo "FROM scratch" > "$CTX/Dockerfile"
for i in $(seq -w 1 20); do
  head -c $((50 << 20)) /dev/urandom > "$CTX/part$i.bin"
  echo "COPY part$i.bin /data/part$i.bin" >> "$CTX/Dockerfile"
done
echo "context: 20 files of 50 MB, one COPY each; $(nproc) cores"

# peak CMD…: "seconds peak-RSS-MB"; a failure stops the benchmark.
peak() {
  /usr/bin/time -o "$WORK/time" -f "%e %M" "$@" >/dev/null 2>"$WORK/last.err" \
    || { echo "failed: $* ($(tail -n 2 "$WORK/last.err"))" >&2; exit 1; }
  read -r secs kb < <(tail -n 1 "$WORK/time")
  echo "$secs $((kb / 1024))"
}

printf '%-4s %18s %18s\n' run "swiftdock s / MB" "buildah s / MB"
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/store"
  read -r s1 m1 < <(SWIFTDOCK_HOME=$WORK/store peak "$BIN" build -q -t bench/rss "$CTX")
  "${B[@]}" rmi -a -f >/dev/null 2>&1 || true
  read -r s2 m2 < <(peak "${B[@]}" bud --isolation chroot -q -t bench/rss "$CTX")
  printf '%-4s %10.1f / %4d %10.1f / %4d\n' "$run" "$s1" "$m1" "$s2" "$m2"
done
