import Foundation
import XCTest

/// Names that differ only by Unicode normalisation — `é` as U+00E9 (bytes C3 A9, NFC) and as
/// `e` + U+0301 (65 CC 81, NFD) — are two files to the kernel, to tar and to BuildKit (Go
/// compares bytes); Swift's `String ==` would take them for one. Both go into the layer with
/// their own bytes, in byte order, and both reach RUN.
final class NormalisationNameTests: XCTestCase {
    static let nfc = "\\303\\251"    // é, U+00E9
    static let nfd = "e\\314\\201"   // e + U+0301

    /// The blob file of the image's layer `index` (negative: from the end) in an OCI layout.
    static func layerBlob(_ layout: String, index: Int) throws -> String {
        let digest = try Harness.sh("""
            cd '\(layout)' && m=$(jq -r '.manifests[0].digest' index.json | cut -d: -f2) && \
            jq -r '.layers[\(index)].digest' blobs/sha256/$m | cut -d: -f2
            """).trimmingCharacters(in: .whitespacesAndNewlines)
        return layout + "/blobs/sha256/" + digest
    }

    func testBothSpellingsAreCopiedAsTwoEntries() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("nfc-nfd")
        try Harness.sh("""
            cd '\(context)' && printf 'nfc\\n' > "$(printf '\(Self.nfc).txt')" && printf 'nfd!\\n' > "$(printf '\(Self.nfd).txt')" && \
            mkdir "$(printf 'd\(Self.nfc)')" "$(printf 'd\(Self.nfd)')" && \
            printf 'in nfc\\n' > "$(printf 'd\(Self.nfc)/a')" && printf 'in nfd!\\n' > "$(printf 'd\(Self.nfd)/b')" && \
            printf 'Dockerfile\\n' > .dockerignore && \
            printf 'FROM swiftdock.local/busybox-base\\nCOPY . /x/\\nRUN cd /x && find . -mindepth 1 -type f -exec md5sum {} + | LC_ALL=C sort > /seen.txt\\n' > Dockerfile
            """)
        try swiftdock.ok("build", "-q", "-t", "nfc-nfd", context)
        let out = try Harness.makeTemporaryDirectory("nfc-nfd-out")
        try swiftdock.ok("save", "nfc-nfd", "--format", "oci", "-o", out + "/oci")
        let layer = try Self.layerBlob(out + "/oci", index: 1)
        // GNU tar on the gunzipped blob: every name once, with its own bytes, in byte order
        // (65 < C3: the NFD spellings first), each file with its own size.
        let listed = try Harness.run("/bin/bash", ["-c", """
            gunzip -c '\(layer)' > '\(out)/layer.tar' && \
            LC_ALL=C tar -tv --quoting-style=escape -f '\(out)/layer.tar' | awk '{print $3, $6}'
            """])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(listed.stdout, """
            0 x/
            11 x/.dockerignore
            0 x/d\(Self.nfd)/
            8 x/d\(Self.nfd)/b
            0 x/d\(Self.nfc)/
            7 x/d\(Self.nfc)/a
            5 x/\(Self.nfd).txt
            4 x/\(Self.nfc).txt

            """)
        // umoci unpacks the same tree as the context; RUN saw both files of each pair.
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:latest bundle >/dev/null")
        let tree = { (dir: String) in try Harness.sh("cd '\(dir)' && find . -mindepth 1 ! -name Dockerfile -printf '%y %s %P\\0' | LC_ALL=C sort -z | od -c") }
        XCTAssertEqual(try tree(out + "/bundle/rootfs/x"), try tree(context))
        XCTAssertEqual(try Harness.sh("od -c '\(out)/bundle/rootfs/seen.txt'"),
                       try Harness.sh("cd '\(context)' && find . -mindepth 1 -type f ! -name Dockerfile -exec md5sum {} + | LC_ALL=C sort | od -c"))
    }

    /// The lower file system holds one spelling (a directory owned 5:6, from the base's own
    /// layer, seen through its header index — read as the layer's bytes, never normalised to
    /// NFC); COPY adds the other: a new directory of its own (0755, root), not the base's.
    func testCopyOfTheOtherSpellingOverABaseThatHasOne() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("nfc-base")
        try Harness.sh("""
            cd '\(context)' && mkdir -p nfc nfd && printf 'a\\n' > nfc/a && printf 'bb\\n' > nfd/b && \
            c=$(printf '\(Self.nfc)') && d=$(printf '\(Self.nfd)') && \
            printf 'FROM swiftdock.local/busybox-base\\nCOPY --chown=5:6 nfd/ /srv/%s/\\n' "$d" > Dockerfile.base && \
            printf 'FROM nfd-base\\nCOPY nfc/ /srv/%s/\\nRUN find /srv -mindepth 1 | LC_ALL=C sort > /seen.txt\\n' "$c" > Dockerfile
            """)
        try swiftdock.ok("build", "-q", "-t", "nfd-base", "-f", context + "/Dockerfile.base", context)
        try swiftdock.ok("build", "-q", "-t", "nfc-nfd-over", context)
        let out = try Harness.makeTemporaryDirectory("nfc-base-out")
        try swiftdock.ok("save", "nfc-nfd-over", "--format", "oci", "-o", out + "/oci")
        let layer = try Self.layerBlob(out + "/oci", index: -2)  // the COPY's, under the RUN's
        let listed = try Harness.run("/bin/bash", ["-c", """
            LC_ALL=C tar -tvz --numeric-owner --quoting-style=escape -f '\(layer)' | awk '{print $1, $2, $6}'
            """])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(listed.stdout, """
            drwxr-xr-x 0/0 srv/\\303\\251/
            -rw-r--r-- 0/0 srv/\\303\\251/a

            """)
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:latest bundle >/dev/null")
        let expected = try Harness.sh("printf './e\\314\\201\\n./e\\314\\201/b\\n./\\303\\251\\n./\\303\\251/a\\n' | od -c")
        XCTAssertEqual(try Harness.sh("cd '\(out)/bundle/rootfs/srv' && find . -mindepth 1 | LC_ALL=C sort | od -c"), expected)
        // RUN (the base layer unpacked for it, with the COPY's on top) saw both directories.
        XCTAssertEqual(try Harness.sh("sed 's|^/srv|.|' '\(out)/bundle/rootfs/seen.txt' | od -c"), expected)
    }

    /// RUN mount targets are kept out of the layer by their bytes: a file the RUN writes beside
    /// an NFC mount target under the NFD name is in the layer, and the stub directories made for
    /// an NFC and an NFD target are two, both left out when empty.
    func testMountTargetsAreExcludedByBytes() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("nfc-mounts")
        try Harness.sh("""
            cd '\(context)' && c=$(printf '\(Self.nfc)') && d=$(printf '\(Self.nfd)') && \
            printf 'FROM swiftdock.local/busybox-base\\nRUN --mount=type=tmpfs,target=/m/%s --mount=type=tmpfs,target=/n/%s/t --mount=type=tmpfs,target=/n/%s/t echo kept > /m/%s\\n' "$c" "$c" "$d" "$d" > Dockerfile
            """)
        try swiftdock.ok("build", "-q", "-t", "nfc-nfd-mounts", context)
        let out = try Harness.makeTemporaryDirectory("nfc-mounts-out")
        try swiftdock.ok("save", "nfc-nfd-mounts", "--format", "oci", "-o", out + "/oci")
        let layer = try Self.layerBlob(out + "/oci", index: -1)
        let listed = try Harness.run("/bin/bash", ["-c", """
            LC_ALL=C tar -tvz --numeric-owner --quoting-style=escape -f '\(layer)' | awk '{print $1, $6}'
            """])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(listed.stdout, """
            drwxr-xr-x m/
            -rw-r--r-- m/e\\314\\201

            """)
    }
}
