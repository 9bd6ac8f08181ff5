#!/usr/bin/env bash
# The main job: set up, build swiftdock, build a real Python base image from Debian packages
# (Fixtures/base-python, made with mmdebstrap) and the tutorial on it, push it to a local
# registry, run the tutorial's notebook in it as Vertex AI would (`vertex run --local`), show
# output.csv and the executed notebook in the local Cloud Storage folder, then print the
# CustomJob that would run it on Vertex AI (--dry-run; nothing is sent to Google).
#
#   bash scripts/main-job.sh [--keep-registry]
#
# gcr.io/deeplearning-platform-release/base-cpu is multi-GB and lives in Google's registry,
# which this machine cannot reach: the Python base built here is tagged with that name as its
# stand-in. The registry this script starts is stopped when it ends, unless --keep-registry.
set -euo pipefail
cd "$(dirname "$0")/.."

keep_registry=0
for arg in "$@"; do
  case $arg in
  --keep-registry) keep_registry=1 ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "main-job: unknown option $arg (usage: bash scripts/main-job.sh [--keep-registry])" >&2; exit 2 ;;
  esac
done

start=$SECONDS
phase() { echo "[main-job +$((SECONDS - start))s] $*" >&2; }

cat >&2 <<'PLAN'
main-job: what happens, and how long it takes
  1. scripts/setup.sh installs the Debian packages it lists that are missing (it names them):
     C libraries to build swiftdock, the CNCF registry, skopeo, mmdebstrap …; none for benchmarks
  2. swift build swiftdock                       first run: 5-10 minutes on 2 cores, later seconds
  3. the Python base's root file system          first run: mmdebstrap downloads about 100 MB of
     (Debian bookworm + pandas, nbconvert,       Debian packages and unpacks them, 5-15 minutes;
     ipykernel; cached in ~/.cache/swiftdock)    later runs reuse it after checking its SHA-256
  4. swiftdock build the base (pip installs the downloaded papermill wheel) and the tutorial: 1-2 minutes
  5. push to a local registry, run the notebook with `vertex run --local`, print the Vertex AI job
  A first run takes about 15-25 minutes in all; a second one about 2 minutes.
PLAN

phase "setup: scripts/setup.sh"
bash scripts/setup.sh

phase "building swiftdock (swift build --product swiftdock)"
swift build --product swiftdock 2>&1 | tail -n 3
bin=$(swift build --show-bin-path)/swiftdock
export SWIFTDOCK_HOME=${SWIFTDOCK_HOME:-$PWD/out/swiftdock-home}
phase "store: $SWIFTDOCK_HOME"

phase "the Python base's root file system (Fixtures/base-python/make-rootfs.sh)"
bash Fixtures/base-python/make-rootfs.sh >/dev/null

phase "building the Python base image (swiftdock build Fixtures/base-python)"
"$bin" build -t swiftdock.local/python-base:latest Fixtures/base-python >/dev/null
"$bin" tag swiftdock.local/python-base:latest gcr.io/deeplearning-platform-release/base-cpu:latest
phase "tagged gcr.io/deeplearning-platform-release/base-cpu:latest (the stand-in)"

phase "building the tutorial (swiftdock build -t python-docker Fixtures/tutorial)"
image_id=$("$bin" build -t python-docker Fixtures/tutorial)
echo "image ID: $image_id"
echo "digest:   $("$bin" inspect --format '{{.Digest}}' python-docker)"
"$bin" images
echo "swiftdock run python-docker ls -l /Sourcecode:"
"$bin" run python-docker ls -l /Sourcecode

# A CNCF registry on a loopback port stands in for europe-west3-docker.pkg.dev.
phase "starting a local registry (scripts/local-registry.sh)"
was_running=0
[ -f out/registry/address ] && curl -fsS "http://$(cat out/registry/address)/v2/" >/dev/null 2>&1 && was_running=1
registry=$(bash scripts/local-registry.sh start out/registry)
if [ "$was_running" = 0 ] && [ "$keep_registry" = 0 ]; then
  trap 'bash scripts/local-registry.sh stop out/registry; echo "[main-job] stopped the registry at $registry (--keep-registry keeps it)" >&2' EXIT
fi
remote=$registry/tweetiment-xyz/tweetimentrep/python-docker
"$bin" tag python-docker "$remote"
phase "pushing $remote"
"$bin" push "$remote"
echo "in the registry:"
curl -fsS "http://$registry/v2/tweetiment-xyz/tweetimentrep/python-docker/tags/list"; echo
skopeo inspect --tls-verify=false "docker://$remote" | grep -E '"(Name|Digest|Architecture|Os)"'

# The CustomJob's container, run here: the same command, args and env as on Vertex AI, with
# /gcs/BUCKET bound to $SWIFTDOCK_HOME/gcs/BUCKET.
bucket=tweetiment-xyz-runs
outputs=gs://$bucket/nightly
rm -rf "$SWIFTDOCK_HOME/gcs/$bucket/nightly"
phase "running the notebook: swiftdock vertex run $remote --local --notebook /Sourcecode/dockerVertexai.ipynb --outputs $outputs"
"$bin" vertex run "$remote" --local --notebook /Sourcecode/dockerVertexai.ipynb --outputs "$outputs"
kept=$SWIFTDOCK_HOME/gcs/$bucket/nightly
phase "the notebook ran; $outputs is $kept:"
ls -l "$kept"
echo "$kept/output.csv:"
cat "$kept/output.csv"
head -n 1 "$kept/output.csv" | grep -q ',Output$' || { echo "main-job: $kept/output.csv has no Output column (the notebook did not run to its end)" >&2; exit 1; }
[ -s "$kept/executed-dockerVertexai.ipynb" ] || { echo "main-job: the executed notebook is missing from $kept" >&2; exit 1; }

# The hand-off to Vertex AI: the CustomJob `swiftdock vertex run` would create to run the
# notebook and keep output.csv (--dry-run prints the request body and sends nothing; on Google
# Cloud drop --dry-run and add --wait).
phase "swiftdock vertex run --dry-run (the CustomJob for Vertex AI; nothing is sent):"
"$bin" vertex run "$remote" --project tweetiment-xyz --region europe-west3 \
  --notebook /Sourcecode/dockerVertexai.ipynb --outputs "$outputs" --dry-run
phase "done"
