#!/usr/bin/env bash
# The main job: set up, build swiftdock, build the busybox stand-in base image, build the
# tutorial fixture on top of it, push it to a local registry, show it there, and print the
# Vertex AI CustomJob that would run its notebook (--dry-run).
#
# gcr.io/deeplearning-platform-release/base-cpu is multi-GB and lives in Google's registry,
# which this machine cannot reach: a busybox image built here from Debian's busybox-static is
# tagged with that name as a stand-in. RUN steps execute in the rootless sandbox.
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

image_id=$("$bin" build -t python-docker Fixtures/tutorial)
echo "image ID: $image_id"
echo "digest:   $("$bin" inspect --format '{{.Digest}}' python-docker)"
"$bin" images
echo "swiftdock run python-docker ls -l /Sourcecode:"
"$bin" run python-docker ls -l /Sourcecode

# A CNCF registry on a loopback port stands in for europe-west3-docker.pkg.dev.
registry=$(bash scripts/local-registry.sh start out/registry)
remote=$registry/tweetiment-xyz/tweetimentrep/python-docker
"$bin" tag python-docker "$remote"
"$bin" push "$remote"
echo "in the registry (stop it with: bash scripts/local-registry.sh stop out/registry):"
curl -fsS "http://$registry/v2/tweetiment-xyz/tweetimentrep/python-docker/tags/list"; echo
skopeo inspect --tls-verify=false "docker://$remote" | grep -E '"(Name|Digest|Architecture|Os)"'

# The hand-off to Vertex AI: the CustomJob `swiftdock vertex run` would create to run the
# notebook and keep output.csv (--dry-run prints the request body and sends nothing; on Google
# Cloud drop --dry-run and add --wait).
echo "swiftdock vertex run --dry-run (the CustomJob for Vertex AI; nothing is sent):"
"$bin" vertex run "$remote" --project tweetiment-xyz --region europe-west3 \
  --notebook /Sourcecode/dockerVertexai.ipynb --outputs gs://tweetiment-xyz-runs/nightly --dry-run
