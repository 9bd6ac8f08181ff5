#!/usr/bin/env bash
# Assembles a minimal busybox root filesystem from Debian's busybox-static into DIR
# (default: Fixtures/base/rootfs). The tests and the main job build it into the stand-in base
# image with `swiftdock build Fixtures/base`, so nothing is downloaded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/rootfs}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-rootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,etc,root,tmp,home,var/tmp,usr/bin,usr/sbin,sbin}
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
chmod 0700 "$tmp/root"
cp "$busybox" "$tmp/bin/busybox"
chmod 0755 "$tmp/bin/busybox"
# One symlink per applet, at the path busybox itself reports (bin/sh, usr/bin/env, …).
"$busybox" --list-full | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  mkdir -p "$tmp/$(dirname "$applet")"
  rel=$(echo "$(dirname "$applet")" | sed -E 's#[^/]+#..#g')
  ln -sf "$rel/bin/busybox" "$tmp/$applet"
done
cat > "$tmp/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
jupyter:x:1000:100:Jupyter user:/home/jupyter:/bin/sh
PASSWD
cat > "$tmp/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
users:x:100:
nogroup:x:65534:
jupyter:x:1000:
GROUP
echo "swiftdock-base" > "$tmp/etc/hostname"
# Fixed mtimes so the base image is reproducible across machines.
find "$tmp" -exec touch -h -d @1700000000 {} +
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
