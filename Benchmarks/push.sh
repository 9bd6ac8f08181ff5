#!/bin/bash
# Push throughput: `swiftdock push` vs `skopeo copy oci:… docker://…` of the same image (one
# ≥ 180 MB random layer, built by `swiftdock build` into a temporary store) to a loopback
# docker-registry, with fresh registry storage for every run. Release build; RUNS runs each.
# usage: Benchmarks/push.sh [LAYER_MB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
# The side-by-side peers (buildah, pigz, isal, bc, time) are installed only for benchmarks.
bash scripts/setup.sh --bench
LAYER_MB=${1:-200}
RUNS=${2:-3}
[ "$LAYER_MB" -ge 180 ] || { echo "LAYER_MB must be at least 180" >&2; exit 2; }
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || { echo "needs docker-registry and skopeo" >&2; exit 2; }

. Benchmarks/common.sh
bench_binary
WORK=$(mktemp -d)
trap bench_cleanup EXIT

# The image: FROM scratch + COPY of a random file (incompressible: the layer is as big).
mkdir -p "$WORK/context"
head -c "$((LAYER_MB * 1000000))" /dev/urandom > "$WORK/context/random.bin"
printf 'FROM scratch\nCOPY random.bin /\n' > "$WORK/context/Dockerfile"
STORE="$WORK/store"
"$BIN" build -q --root "$STORE" -t bench/push:latest "$WORK/context" >/dev/null
LAYER_BYTES=$(find "$STORE/blobs/sha256" -type f -size +100M -printf '%s\n' | head -1)
echo "image: 1 layer of $((LAYER_BYTES / 1000000)) MB (gzip of $LAYER_MB MB random), $(nproc) cores"


measure() {  # label, command...
  local label=$1; shift
  start_registry
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  stop_registry
  local secs; secs=$(echo "$t1 - $t0" | bc -l)
  printf '%-16s %6.2f s %7.1f MB/s\n' "$label" "$secs" "$(echo "$LAYER_BYTES / $secs / 1000000" | bc -l)"
}

for run in $(seq "$RUNS"); do
  measure "swiftdock push" "$BIN" push -q --root "$STORE" bench/push:latest "$REG/bench/push:latest"
  measure "skopeo copy" skopeo copy --quiet --dest-tls-verify=false \
    "oci:$STORE:docker.io/bench/push:latest" "docker://$REG/bench/push:latest"
done
