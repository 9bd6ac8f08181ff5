#!/bin/bash
# End-to-end: `swiftdock build` of `FROM scratch` + `COPY . /tree/` over the benchmark tree
# (walk, .dockerignore, plan, tar, gzip, both digests, store), release build, RUNS times.
# usage: Benchmarks/build-context.sh [TREE_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
# The side-by-side peers (buildah, pigz, isal, bc, time) are installed only for benchmarks.
bash scripts/setup.sh --bench
TREE=${1:-/tmp/swiftdock-bench-tree}
RUNS=${2:-3}
[ -d "$TREE" ] || Benchmarks/make-tree.sh "$TREE"
swift build -c release --static-swift-stdlib --product swiftdock 2>&1 | tail -1
BIN=$(swift build -c release --show-bin-path)/swiftdock
HOME_DIR=$(mktemp -d)
DOCKERFILE=$(mktemp)
trap 'rm -rf "$HOME_DIR" "$DOCKERFILE"' EXIT
printf 'FROM scratch\nCOPY . /tree/\n' > "$DOCKERFILE"
TAR_BYTES=$(tar -C "$(dirname "$TREE")" -cf - "$(basename "$TREE")" | wc -c)
echo "tree $TREE: $(find "$TREE" -type f | wc -l) files, tar $((TAR_BYTES / 1000000)) MB, $(nproc) cores"
for run in $(seq "$RUNS"); do
  out=$( { /usr/bin/time -f "%e %M" env SWIFTDOCK_HOME="$HOME_DIR" "$BIN" build -q -f "$DOCKERFILE" -t bench "$TREE" >/dev/null; } 2>&1 | tail -1)
  secs=${out% *}; rss=${out#* }
  printf 'swiftdock build   %6.2f s %7.0f MB/s  peak RSS %4.0f MB\n' "$secs" "$(echo "$TAR_BYTES / $secs / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
