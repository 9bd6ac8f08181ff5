#!/usr/bin/env bash
# Installs, when missing, the Debian packages swiftdock needs to build and test; with --bench
# also the peers the benchmarks (Benchmarks/*.sh) run side by side. Idempotent: a second run
# installs nothing and returns quickly.
#   bash scripts/setup.sh           build + test (what scripts/test.sh and the main job need)
#   bash scripts/setup.sh --bench   that, plus buildah, pigz, isal, bc, time
set -euo pipefail

BENCH=0
for arg in "$@"; do
  case "$arg" in
    --bench) BENCH=1 ;;
    *) echo "setup: unknown option $arg (usage: setup.sh [--bench])" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  # build: C libraries behind the system-library targets
  pkg-config zlib1g-dev libssl-dev libarchive-dev libisal-dev libzstd-dev
  # tests: independent readers, a base image source, the registry
  skopeo umoci busybox-static docker-registry tar gzip coreutils python3
  # tests: a real git work tree as a build context (provenance records its commit)
  git
  # tests: strace's fault injection kills a build at a chosen system call (StoreSafetyTests),
  # so "killed while writing a layer" is deterministic instead of a race with a polling loop
  strace
  # main job: the Python base's root file system from Debian's mirror (Fixtures/base-python)
  mmdebstrap
  # tests: pip for the PyPI-only tools below
  python3-pip
  # registry fixtures (scripts/registries.sh): htpasswd, key generation, HTTP and JSON
  apache2-utils openssl curl jq
  # sandbox: newuidmap/newgidmap, used when /etc/subuid and /etc/subgid give the user a range
  uidmap
  # sandbox: RUN's own network namespace gets outbound access through slirp4netns (a user-mode
  # TCP/IP stack) without reaching the host's loopback
  slirp4netns
  # sandbox: docker's default seccomp policy for RUN, built with libseccomp
  libseccomp-dev
  # sign/verify: cosign's encrypted private keys are scrypt + NaCl secretbox (XSalsa20-Poly1305),
  # which libcrypto lacks; Ed25519ph (what cosign signs with for Ed25519 keys) also comes from here
  libsodium-dev
  # build --ssh KEYFILE: ssh-agent and ssh-add serve key files to RUN --mount=type=ssh (and the
  # tests list the forwarded keys with ssh-add)
  openssh-client
)

# benchmarks only: the side-by-side peers and the tools that time them
BENCH_PACKAGES=(pigz isal bc time buildah)
[ "$BENCH" -eq 0 ] || PACKAGES+=("${BENCH_PACKAGES[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tests: `cosign` checks `swiftdock sign` signatures and makes the ones `swiftdock verify` checks
# (issue 16). Bookworm has no cosign; trixie has it (a static Go binary that needs only libc6). A
# trixie source is added with every package pinned to -1 (never installed from it) except cosign,
# so nothing else on the machine moves to trixie.
if ! dpkg-query -W -f='${Status}' cosign 2>/dev/null | grep -q 'install ok installed'; then
  echo "setup: installing cosign from Debian trixie (pinned; nothing else comes from trixie)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: trixie' 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
    | $SUDO tee /etc/apt/sources.list.d/swiftdock-trixie.sources >/dev/null
  printf '%s\n' 'Package: *' 'Pin: release n=trixie' 'Pin-Priority: -1' '' \
    'Package: cosign' 'Pin: release n=trixie' 'Pin-Priority: 500' \
    | $SUDO tee /etc/apt/preferences.d/swiftdock-trixie >/dev/null
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends cosign >/dev/null
fi

# tests: the SPDX validator (spdx-tools' `pyspdxtools`) checks `build --sbom` documents; it is on
# PyPI only. Installed for Debian's python3 (scripts land in /usr/local/bin), pinned.
if ! /usr/bin/python3 -c 'import spdx_tools' 2>/dev/null; then
  echo "setup: installing spdx-tools from PyPI" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO /usr/bin/python3 -m pip install --quiet --break-system-packages --root-user-action=ignore 'spdx-tools==0.8.3'
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (expected /opt/swift)" >&2; exit 1; }
