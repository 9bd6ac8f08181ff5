#!/usr/bin/env bash
# Makes the Python stand-in base's root file system, Fixtures/base-python/rootfs/: Debian
# bookworm, variant minbase, plus packages.txt, made by Debian's own mmdebstrap from Debian's
# mirror (no container registry, no Docker). `swiftdock build Fixtures/base-python` turns it
# into an image (Dockerfile: FROM scratch, COPY rootfs/ /).
#
# The tar is cached between runs under $SWIFTDOCK_BASE_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/swiftdock/base-python), in a directory named by the SHA-256 of the
# recipe (suite, variant, mmdebstrap options, package list): a change to any of them makes a new
# one, while edits to comments do not. Beside the tar, rootfs.tar.sha256 holds the tar's digest,
# taken when it was made; the cache is used only when the tar still has it (a truncated or
# altered tar is made again). A first run downloads about 100 MB of packages (235 installed,
# a 470 MB tar) and took 12 minutes on a busy 2-core machine (1 minute of CPU: the rest is the
# download and dpkg's unpacking); a cached run takes a few seconds (hashing the tar).
#
#   make-rootfs.sh [OUT]      # OUT defaults to Fixtures/base-python/rootfs; prints OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/rootfs}
out=${out%/}
command -v mmdebstrap >/dev/null || { echo "make-rootfs: mmdebstrap missing (bash scripts/setup.sh installs it)" >&2; exit 1; }

suite=bookworm
mirror=${SWIFTDOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \t\n' ' ' | sed -e 's/^ //' -e 's/ $//')
[ -n "$packages" ] || { echo "make-rootfs: $here/packages.txt lists no packages" >&2; exit 1; }
# No documentation or translations (the image is for running notebooks), and no device nodes
# (the sandbox gives /dev at run time).
options=(
  --variant=minbase --format=tar
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --skip=output/dev --skip=output/mknod
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*'
)
key=$(printf '%s\n' "suite=$suite" "${options[@]}" "packages=$packages" | sha256sum | cut -c1-16)
cache=${SWIFTDOCK_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swiftdock/base-python}/$key
tar=$cache/rootfs.tar

cached_ok() {
  [ -f "$tar" ] && [ -f "$tar.sha256" ] || return 1
  [ "$(sha256sum <"$tar" | cut -d' ' -f1)" = "$(cat "$tar.sha256")" ]
}

if cached_ok; then
  echo "make-rootfs: cached $tar (sha256 $(cut -c1-12 "$tar.sha256")…)" >&2
else
  echo "make-rootfs: mmdebstrap $suite minbase + $(wc -w <<<"$packages") packages from $mirror into $tar (first run: about 100 MB to download, 5-15 minutes)" >&2
  mkdir -p "$cache"
  rm -f "$tar" "$tar.sha256"
  # Fixed timestamps: mmdebstrap honours SOURCE_DATE_EPOCH. --mode=auto: as root it runs dpkg
  # in a chroot; otherwise in a user namespace (unshare, with the user's subordinate ids).
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} mmdebstrap --mode=auto --quiet \
    "${options[@]}" --include="${packages// /,}" "$suite" "$tar.tmp" "$mirror"
  sha256sum <"$tar.tmp" | cut -d' ' -f1 >"$tar.sha256.tmp"
  mv "$tar.tmp" "$tar"
  mv "$tar.sha256.tmp" "$tar.sha256"
fi

# The tree is unpacked from the tar afresh whenever the tar's digest differs from the one it was
# unpacked from (OUT.sha256). Owners are kept as numbers (as root; COPY makes them root's anyway).
# A tree and COPY rather than the tar and ADD: the busybox base goes the same way, and a tree
# lets a reader look at what the image will hold. Every name goes in as it is, the non-ASCII
# ones (a CA certificate's) included.

# papermill's wheel from PyPI (bookworm has no python3-papermill; see the Dockerfile), into the
# cache once and beside the Dockerfile, checked against pypi/requirements.txt's SHA-256.
wheel_url=https://files.pythonhosted.org/packages/95/9f/f9fd57a727dcc89c54e84455d8317bff7db05ef21bb6d05b03705111f7c0/papermill-2.7.0-py3-none-any.whl
wheel=${wheel_url##*/}
wheel_sha=$(sed -n 's/.*--hash=sha256:\([0-9a-f]\{64\}\).*/\1/p' "$here/pypi/requirements.txt")
if [ "$(sha256sum 2>/dev/null <"$cache/$wheel" | cut -d' ' -f1)" != "$wheel_sha" ]; then
  echo "make-rootfs: downloading $wheel from PyPI" >&2
  curl -fsSL -o "$cache/$wheel.tmp" "$wheel_url"
  [ "$(sha256sum <"$cache/$wheel.tmp" | cut -d' ' -f1)" = "$wheel_sha" ] || { echo "make-rootfs: $wheel does not have the SHA-256 in pypi/requirements.txt" >&2; rm -f "$cache/$wheel.tmp"; exit 1; }
  mv "$cache/$wheel.tmp" "$cache/$wheel"
fi
cp "$cache/$wheel" "$here/pypi/$wheel"

digest=$(cat "$tar.sha256")
if [ -d "$out" ] && [ "$(cat "$out.sha256" 2>/dev/null)" = "$digest" ]; then
  echo "$out"
  exit 0
fi
tmp=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xf "$tar" -C "$tmp" --numeric-owner
rm -rf "$out" "$out.sha256"
mv "$tmp" "$out"
trap - EXIT
echo "$digest" >"$out.sha256"
echo "$out"
