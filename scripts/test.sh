#!/usr/bin/env bash
# Sets up and runs every test: unit tests of each module and end-to-end tests that drive the
# built swiftdock binary with skopeo and umoci as independent readers.
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything this run puts in TMPDIR — the tests' own directories, what the tools they run
# leave (swiftc's driver leaves a TemporaryDirectory.XXXXXX behind on every call) —
# goes into one directory of its own, removed on exit (also after Ctrl-C);
# SWIFTDOCK_KEEP_TMPDIR=1 keeps it for a look afterwards. Mode 1777, as /tmp: the rootless
# tests switch to unprivileged users (swiftdock-ci, nobody) that must reach their own
# directories in it.
RUN_TMP=$(mktemp -d /tmp/swiftdock-test-run.XXXXXX)
chmod 1777 "$RUN_TMP"
REG_STATE=
cleanup() {
  if [ -n "$REG_STATE" ]; then
    bash scripts/registries.sh stop "$REG_STATE" || true
    if [ "${SWIFTDOCK_KEEP_REGISTRIES:-0}" = 1 ]; then echo "test: registry state kept in $REG_STATE" >&2
    else rm -rf "$REG_STATE"; fi
  fi
  if [ "${SWIFTDOCK_KEEP_TMPDIR:-0}" = 1 ]; then echo "test: temporary files kept in $RUN_TMP" >&2
  else rm -rf --one-file-system "$RUN_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export TMPDIR=$RUN_TMP
bash scripts/setup.sh
swift build --build-tests 2>&1 | tail -n 3
export SWIFTDOCK_BIN=$(swift build --show-bin-path)/swiftdock
# The main job end to end, as README line 1 runs it (issue 15): the real Python base (mmdebstrap;
# its root file system is cached in ~/.cache/swiftdock and checked by SHA-256, so only a new
# machine downloads it, 5-15 minutes), the tutorial built on it, pushed to a local registry, and
# its notebook executed with `vertex run --local`; the script fails when output.csv or the
# executed notebook is missing. Its log goes to out/main-job.log; SWIFTDOCK_SKIP_MAIN_JOB=1
# leaves it out of a quick local run. Run before the XCTest suite so the suite's summary ends
# the output; a failure still fails this script.
main_job_status=0
if [ "${SWIFTDOCK_SKIP_MAIN_JOB:-0}" != 1 ]; then
  mkdir -p out
  echo "test: the main job (scripts/main-job.sh; log in out/main-job.log)" >&2
  set +e
  bash scripts/main-job.sh >out/main-job.log 2>&1
  main_job_status=$?
  set -e
  if [ "$main_job_status" -eq 0 ]; then
    grep -E '^\[main-job \+[0-9]+s\] (the notebook ran|done)' out/main-job.log >&2 || true
  else
    tail -n 60 out/main-job.log >&2
    echo "test: the main job failed (exit $main_job_status)" >&2
  fi
fi
# Real registries on loopback (open, htpasswd, token, Artifact-Registry-style token), token and
# Google stand-ins, and a corrupting proxy: started here, stopped on exit.
# Their state (keys, htpasswd, registry data) lives in REG_STATE and is removed on exit, also
# after Ctrl-C; SWIFTDOCK_KEEP_REGISTRIES=1 keeps it for a look afterwards.
REG_STATE=$(mktemp -d /tmp/swiftdock-registries.XXXXXX)
bash scripts/registries.sh start "$REG_STATE"
set -a; . "$REG_STATE/env"; set +a
# An unprivileged user for the rootless RUN tests (created once, kept; root only; the README's
# "What the tests leave on the host" says how to remove it)…
if [ "$(id -u)" -eq 0 ]; then
  # …with subordinate id ranges, so newuidmap/newgidmap map an image's other users.
  id swiftdock-ci >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin swiftdock-ci
  grep -q '^swiftdock-ci:' /etc/subuid 2>/dev/null || usermod --add-subuids 300000-365535 swiftdock-ci
  grep -q '^swiftdock-ci:' /etc/subgid 2>/dev/null || usermod --add-subgids 300000-365535 swiftdock-ci
  export SWIFTDOCK_TEST_SUBID_USER=swiftdock-ci
fi
set +e
# All tests are XCTest; the per-test "started/passed" lines are dropped to keep the log short.
swift test --skip-build --disable-swift-testing 2>&1 | grep -E --line-buffered -v '^Test Case .* (started|passed)'
status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$main_job_status
exit "$status"
