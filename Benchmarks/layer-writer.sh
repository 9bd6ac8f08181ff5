#!/bin/bash
# Benchmarks LayerWriter against `tar | pigz | sha256sum` (and igzip when installed).
# usage: Benchmarks/layer-writer.sh [TREE_DIR] [RUNS]
# Builds layer-bench in release mode, generates the tree if absent, warms the page cache once,
# then runs every contender RUNS times (default 3), printing wall seconds, MB/s of uncompressed
# tar bytes, compressed size and peak RSS. Figures are noisy when other builds share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# The side-by-side peers (buildah, pigz, isal, bc, time) are installed only for benchmarks.
bash scripts/setup.sh --bench
TREE=${1:-/tmp/swiftdock-bench-tree}
RUNS=${2:-3}
N=$(nproc)
[ -d "$TREE" ] || Benchmarks/make-tree.sh "$TREE"
swift build -c release --static-swift-stdlib --product layer-bench 2>&1 | tail -1
BENCH=.build/release/layer-bench
PARENT=$(dirname "$TREE"); BASE=$(basename "$TREE")
tar -C "$PARENT" -cf - "$BASE" >/dev/null   # warm the cache (untimed)
TAR_BYTES=$(tar -C "$PARENT" -cf - "$BASE" | wc -c)
ROWS=()

shell_contender() {  # name, pipeline producing compressed bytes on stdout
    local name=$1 pipeline=$2
    for run in $(seq "$RUNS"); do
        local out; out=$( { /usr/bin/time -f "%e %M" bash -c "$pipeline | tee >(wc -c >/tmp/lw-bench-size.$$) | sha256sum >/dev/null"; } 2>&1 | tail -1)
        sleep 0.2
        local secs=${out% *} rss=${out#* } size; size=$(cat /tmp/lw-bench-size.$$)
        ROWS+=("$(printf '%-28s %6.2f s %7.0f MB/s %8.1f MB %6.0f MB' "$name" "$secs" \
            "$(echo "$TAR_BYTES / $secs / 1000000" | bc -l)" "$(echo "$size / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)")")
    done
    rm -f /tmp/lw-bench-size.$$
}

bench_contender() {  # name, layer-bench flags
    local name=$1; shift
    while read -r line; do
        case $line in run*)
            set -- $line
            # run N COMP items N tar X MB S s R MB/s blob B MB ratio Q peakRSS M MB
            ROWS+=("$(printf '%-28s %6.2f s %7.0f MB/s %8.1f MB %6.0f MB' "$name" "${9}" "${11}" "${14}" "${19}")")
        esac
    done < <("$BENCH" "$TREE" "$@" --repeat "$RUNS")
}

bench_contender "swiftdock default (ISA-L 2)"
bench_contender "swiftdock gzip-1 (ISA-L)" --level 1
bench_contender "swiftdock gzip-2 256K blocks" --level 2 --block 262144
bench_contender "swiftdock gzip-3 (ISA-L)" --level 3 --repeat 1
bench_contender "swiftdock gzip-6 (zlib)" --level 6 --repeat 1
bench_contender "swiftdock none" --none
shell_contender "tar|pigz -p$N -1|sha256sum" "tar -C '$PARENT' -cf - '$BASE' | pigz -p$N -1"
if command -v igzip >/dev/null; then
    shell_contender "tar|igzip -1 -T$N|sha256sum" "tar -C '$PARENT' -cf - '$BASE' | igzip -1 -T $N -c"
fi
echo
echo "tree $TREE: $(find "$TREE" -type f | wc -l) files, tar $(echo "$TAR_BYTES / 1000000" | bc) MB, $N cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %8s %12s %11s %9s\n' contender wall throughput compressed peakRSS
printf '%s\n' "${ROWS[@]}"
