#!/usr/bin/env bash
# The main job: set up, build swiftdock, build the busybox stand-in base image, build the
# tutorial fixture on top of it, and show the result.
#
# gcr.io/deeplearning-platform-release/base-cpu is multi-GB and needs a registry; until the
# registry client lands, a busybox image built here from Debian's busybox-static is tagged
# with that name as a stand-in, and RUN steps are recorded (--run=record), not executed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --product swiftdock 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/swiftdock
export SWIFTDOCK_HOME=${SWIFTDOCK_HOME:-$PWD/out/swiftdock-home}
echo "store: $SWIFTDOCK_HOME" >&2

bash Fixtures/base/make-rootfs.sh >/dev/null
"$bin" build -t swiftdock.local/busybox-base:latest Fixtures/base >/dev/null
"$bin" tag swiftdock.local/busybox-base:latest gcr.io/deeplearning-platform-release/base-cpu:latest

image_id=$("$bin" build --run=record -t python-docker Fixtures/tutorial)
echo "image ID: $image_id"
echo "digest:   $("$bin" inspect --format '{{.Digest}}' python-docker)"
"$bin" images
