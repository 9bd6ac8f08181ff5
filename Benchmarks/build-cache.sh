#!/bin/bash
# Build cache, side by side with `buildah bud --layers` (chroot isolation, overlay storage), on the
# issue-13 shape of Dockerfile over the benchmark tree (Benchmarks/make-tree.sh, >= 500 MB, 30k files):
#   FROM base; RUN …; COPY tree /opt/sp; RUN … (reads the tree); COPY app.txt /app/
# Per run: cold build (empty cache), rebuild with nothing changed, rebuild after editing app.txt;
# and for swiftdock alone a fresh store built from a local cache (--cache-from type=local, what a
# fresh CI runner does; buildah has no local-directory cache to compare with). Release build.
# usage: [SWIFTDOCK_BENCH_BIN=…] Benchmarks/build-cache.sh [TREE_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
# The side-by-side peers (buildah, pigz, isal, bc, time) are installed only for benchmarks.
bash scripts/setup.sh --bench
TREE=${1:-/tmp/swiftdock-bench-tree}
RUNS=${2:-1}
STORAGE=${BUILDAH_STORAGE_DRIVER:-overlay}
command -v buildah >/dev/null || { echo "needs buildah (apt-get install buildah)" >&2; exit 2; }
[ -d "$TREE" ] || Benchmarks/make-tree.sh "$TREE"
. Benchmarks/common.sh
bench_binary
WORK=/tmp/swiftdock-bench-cache-$$; mkdir -p "$WORK"
B=(buildah --root "$WORK/buildah" --runroot "$WORK/buildah-run" --storage-driver "$STORAGE")
trap '"${B[@]}" rm -a >/dev/null 2>&1 || true; "${B[@]}" rmi -a -f >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

# The same busybox base for both, from one OCI layout.
bash Fixtures/base/make-rootfs.sh >/dev/null
SWIFTDOCK_HOME=$WORK/seed "$BIN" build -q -t bench-base Fixtures/base >/dev/null
SWIFTDOCK_HOME=$WORK/seed "$BIN" save bench-base --format oci -o "$WORK/base-oci"

CTX=$WORK/ctx; mkdir -p "$CTX"
cp -a "$TREE" "$CTX/sp"
echo "app v0" > "$CTX/app.txt"
cat > "$CTX/Dockerfile" <<'DF'
FROM bench-base
RUN echo prepared > /prepared
COPY sp /opt/sp
RUN find /opt/sp -type f | wc -l > /opt/count
COPY app.txt /app/
DF
sed 's#^FROM bench-base#FROM localhost/bench-base#' "$CTX/Dockerfile" > "$CTX/buildah.Dockerfile"
printf 'Dockerfile\nbuildah.Dockerfile\n' > "$CTX/.dockerignore"
echo "tree $TREE: $(find "$TREE" -type f | wc -l) files, $(du -sm "$TREE" | cut -f1) MB; $(nproc) cores; buildah $(buildah --version | cut -d' ' -f3) ($STORAGE)"

# seconds CMD…: wall time; fails loudly (a contender that errors must not look fast). Peak RSS
# of the last command in $WORK/rss (KB), its CPU time (user + sys, s) in $WORK/cpu: on a
# shared machine wall times swing with the load, CPU time much less.
seconds() {
  local out
  /usr/bin/time -o "$WORK/time" -f "%e %M %U %S" "$@" >/dev/null 2>"$WORK/last.err" \
    || { echo "failed: $* ($(tail -n 1 "$WORK/last.err"))" >&2; exit 1; }
  out=$(tail -n 1 "$WORK/time")
  set -- $out
  echo "$2" > "$WORK/rss"; echo "$3 + $4" | bc -l > "$WORK/cpu"; echo "$1"
}
# A store holding only the base (and the base's own cache records), the same in every run.
fresh_swiftdock() {
  rm -rf "$WORK/store"; cp -a "$WORK/seed" "$WORK/store"
}
fresh_buildah() {
  "${B[@]}" rmi -a -f >/dev/null 2>&1 || true
  "${B[@]}" pull -q "oci:$WORK/base-oci:latest" >/dev/null
  "${B[@]}" tag "$("${B[@]}" images -q | head -n 1)" localhost/bench-base
}
S=(env SWIFTDOCK_HOME="$WORK/store" "$BIN" build -q -t bench)
BB=("${B[@]}" bud --layers --isolation chroot -f "$CTX/buildah.Dockerfile" -t bench)

printf '%-26s %9s %9s %9s %11s %9s\n' "" "cold" "no change" "app edit" "cold RSS" "CI fresh"
for run in $(seq "$RUNS"); do
  echo "app v0" > "$CTX/app.txt"
  fresh_swiftdock
  s_cold=$(seconds "${S[@]}" --cache-to "type=local,dest=$WORK/ci-cache" "$CTX"); s_rss=$(cat "$WORK/rss"); s_cpu=$(cat "$WORK/cpu")
  s_same=$(seconds "${S[@]}" "$CTX")
  echo "app v$run" > "$CTX/app.txt"
  s_edit=$(seconds "${S[@]}" "$CTX")
  echo "app v0" > "$CTX/app.txt"
  fresh_swiftdock
  s_ci=$(seconds "${S[@]}" --cache-from "type=local,src=$WORK/ci-cache" "$CTX")
  rm -rf "$WORK/ci-cache"

  fresh_buildah
  b_cold=$(seconds "${BB[@]}" "$CTX"); b_rss=$(cat "$WORK/rss"); b_cpu=$(cat "$WORK/cpu")
  b_same=$(seconds "${BB[@]}" "$CTX")
  echo "app v$run" > "$CTX/app.txt"
  b_edit=$(seconds "${BB[@]}" "$CTX")

  printf '%-26s %8.2fs %8.2fs %8.2fs %8.0f MB %8.2fs\n' "swiftdock build" "$s_cold" "$s_same" "$s_edit" "$(echo "$s_rss / 1024" | bc -l)" "$s_ci"
  printf '%-26s %8.2fs %8.2fs %8.2fs %8.0f MB %9s\n' "buildah bud --layers" "$b_cold" "$b_same" "$b_edit" "$(echo "$b_rss / 1024" | bc -l)" "-"
  printf '%-26s %9.3f %9.3f %9.3f\n' "ratio swiftdock/buildah" "$(echo "$s_cold / $b_cold" | bc -l)" \
    "$(echo "$s_same / $b_same" | bc -l)" "$(echo "$s_edit / $b_edit" | bc -l)"
  printf '%-26s %9.3f\n' "no change / cold (swiftdock)" "$(echo "$s_same / $s_cold" | bc -l)"
  printf '%-26s %8.2fs %8.2fs %9.3f   (load %s)\n' "cold CPU user+sys s / b / ratio" "$s_cpu" "$b_cpu" \
    "$(echo "$s_cpu / $b_cpu" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
