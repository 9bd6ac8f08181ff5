#!/bin/bash
# RUN overhead: ten `RUN true` steps, and one RUN writing 10,000 files, built by swiftdock and by
# `buildah bud --isolation chroot` (vfs driver) from the same busybox base, and by swiftdock with
# copy-and-compare RUN steps (SWIFTDOCK_RUN_ISOLATION=copy). Release build.
# usage: Benchmarks/run-steps.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
# The side-by-side peers (buildah, pigz, isal, bc, time) are installed only for benchmarks.
bash scripts/setup.sh --bench
RUNS=${1:-3}
command -v buildah >/dev/null || { echo "needs buildah (apt-get install buildah)" >&2; exit 2; }
swift build -c release --static-swift-stdlib --product swiftdock 2>&1 | tail -1
BIN=$(swift build -c release --show-bin-path)/swiftdock
WORK=/tmp/swiftdock-bench-run-$$; mkdir -p "$WORK"
trap 'buildah --root "$WORK/buildah" --runroot "$WORK/buildah-run" --storage-driver vfs rm -a >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export SWIFTDOCK_HOME=$WORK/store
bash Fixtures/base/make-rootfs.sh >/dev/null
"$BIN" build -q -t bench-base Fixtures/base >/dev/null
"$BIN" save bench-base --format oci -o "$WORK/base-oci"
B=(buildah --root "$WORK/buildah" --runroot "$WORK/buildah-run" --storage-driver vfs)
"${B[@]}" pull -q "oci:$WORK/base-oci:latest" >/dev/null
"${B[@]}" tag "$("${B[@]}" images -q | head -n 1)" localhost/bench-base

mkdir -p "$WORK/ctx"
{ echo "FROM bench-base"; } > "$WORK/ctx/from.Dockerfile"
{ echo "FROM bench-base"; for i in $(seq 10); do echo "RUN true"; done; } > "$WORK/ctx/ten.Dockerfile"
{ echo "FROM bench-base"; echo 'RUN mkdir /data && i=0; while [ $i -lt 10000 ]; do echo $i > /data/f$i; i=$((i+1)); done'; } > "$WORK/ctx/files.Dockerfile"
for f in from ten files; do sed 's#^FROM bench-base#FROM localhost/bench-base#' "$WORK/ctx/$f.Dockerfile" > "$WORK/ctx/$f.buildah"; done

seconds() {  # fails loudly: a contender that errors must not look fast
  local t0 t1; t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$WORK/last.err" || { echo "failed: $* ($(tail -n 1 "$WORK/last.err"))" >&2; exit 1; }
  t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l
}
printf '%-28s %10s %10s %10s\n' "" "FROM only" "10×RUN" "10k files"
for run in $(seq "$RUNS"); do
  s0=$(seconds "$BIN" build -q -f "$WORK/ctx/from.Dockerfile" -t b0 "$WORK/ctx")
  s1=$(seconds "$BIN" build -q -f "$WORK/ctx/ten.Dockerfile" -t b1 "$WORK/ctx")
  s2=$(seconds "$BIN" build -q -f "$WORK/ctx/files.Dockerfile" -t b2 "$WORK/ctx")
  # Copy-and-compare, the fallback where overlayfs in a user namespace is refused.
  c1=$(SWIFTDOCK_RUN_ISOLATION=copy seconds "$BIN" build -q -f "$WORK/ctx/ten.Dockerfile" -t c1 "$WORK/ctx")
  c2=$(SWIFTDOCK_RUN_ISOLATION=copy seconds "$BIN" build -q -f "$WORK/ctx/files.Dockerfile" -t c2 "$WORK/ctx")
  b0=$(seconds "${B[@]}" bud --isolation chroot -f "$WORK/ctx/from.buildah" -t b0 "$WORK/ctx")
  b1=$(seconds "${B[@]}" bud --isolation chroot -f "$WORK/ctx/ten.buildah" -t b1 "$WORK/ctx")
  b2=$(seconds "${B[@]}" bud --isolation chroot -f "$WORK/ctx/files.buildah" -t b2 "$WORK/ctx")
  printf '%-28s %9.2fs %9.2fs %9.2fs   per RUN step: %.3fs\n' "swiftdock build" "$s0" "$s1" "$s2" "$(echo "($s1 - $s0) / 10" | bc -l)"
  printf '%-28s %10s %9.2fs %9.2fs   per RUN step: %.3fs\n' "swiftdock build (copy mode)" "" "$c1" "$c2" "$(echo "($c1 - $s0) / 10" | bc -l)"
  printf '%-28s %9.2fs %9.2fs %9.2fs   per RUN step: %.3fs\n' "buildah bud (chroot, vfs)" "$b0" "$b1" "$b2" "$(echo "($b1 - $b0) / 10" | bc -l)"
done
