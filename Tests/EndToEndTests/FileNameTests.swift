import Foundation
import XCTest

/// Any file name a data scientist's folder holds goes into a layer with its exact bytes and
/// comes back identically through GNU tar, umoci and RUN, whatever the process locale.
final class FileNameTests: XCTestCase {
    /// Names that crashed libarchive's header writer, and the shapes tar formats struggle with:
    /// spaces, a newline, a 255-byte component, a path far beyond ustar's 100 bytes.
    static let names = [
        "Übersicht.ipynb", "日本語.txt", "emoji-😀.txt", "with space.txt", "new\nline.txt", "tab\there.txt",
        String(repeating: "n", count: 251) + ".txt",
        (0..<12).map { "déjà-vu-\($0)-" + String(repeating: "d", count: 30) }.joined(separator: "/") + "/deep-日本.txt",
    ]

    /// `find` output of a tree (NUL-separated names, each with its type and size), to compare trees.
    static func listing(_ dir: String) throws -> String {
        try Harness.sh("cd '\(dir)' && find . -mindepth 1 -printf '%y %s %P\\0' | sort -z | od -c")
    }

    func testNonASCIINamesRoundTripThroughLayersTarUmociAndRun() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("names")
        for (i, name) in Self.names.enumerated() { try Harness.write("file \(i)\n", to: context + "/data/" + name) }
        try Harness.write("""
            FROM swiftdock.local/busybox-base
            COPY data/ /data/
            RUN cd /data && find . -mindepth 1 | sort > /listing.txt
            """, to: context + "/Dockerfile")

        // The same image whatever the locale: names never go through the process locale.
        var ids: [String] = []
        for locale in ["C", "C.UTF-8"] {
            let env = ["LC_ALL": locale, "SOURCE_DATE_EPOCH": "1700000000"]
            try swiftdock.ok("build", "-q", "-t", "names:\(locale)", "--source-date-epoch", "1700000000", context, environment: env)
            ids.append(try swiftdock.ok("inspect", "-f", "{{.Digest}}", "names:\(locale)").stdout)
        }
        XCTAssertEqual(ids[0], ids[1], "the image depends on the locale")

        let out = try Harness.makeTemporaryDirectory("names-out")
        try swiftdock.ok("save", "names:C", "--format", "oci", "-o", out + "/oci")
        // umoci reads every layer back: the tree is the context's, byte for byte in its names.
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:C bundle >/dev/null")
        XCTAssertEqual(try Self.listing(out + "/bundle/rootfs/data"), try Self.listing(context + "/data"))
        // GNU tar extracts the COPY layer (the second) to the same tree, under either locale.
        let layer = try Harness.sh("""
            cd '\(out)/oci' && m=$(jq -r '.manifests[0].digest' index.json | cut -d: -f2) && \
            jq -r '.layers[1].digest' blobs/sha256/$m | cut -d: -f2
            """).trimmingCharacters(in: .whitespacesAndNewlines)
        for locale in ["C", "C.UTF-8"] {
            let tree = out + "/tar-" + locale
            try Harness.sh("mkdir '\(tree)' && LC_ALL=\(locale) tar -xzf '\(out)/oci/blobs/sha256/\(layer)' -C '\(tree)'")
            XCTAssertEqual(try Self.listing(tree + "/data"), try Self.listing(context + "/data"), locale)
        }
        // RUN saw the same names (the COPY layer unpacked for it).
        let expected = try Harness.sh("cd '\(context)/data' && find . -mindepth 1 | LC_ALL=C sort")  // busybox sorts bytewise
        XCTAssertEqual(try String(contentsOfFile: out + "/bundle/rootfs/listing.txt", encoding: .utf8), expected)
    }

    /// Names that are not UTF-8 (Latin-1 `café`, bytes 0xff 0xfe, a symlink to one) are COPYed
    /// byte-exact, as BuildKit copies them, and `.dockerignore` matches their bytes; GNU tar
    /// lists the layer without a remark, skopeo copies the image (checking every digest) and
    /// umoci unpacks it to the same tree; RUN sees the same names.
    func testNonUTF8NamesAreCopiedByteExact() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("binary-names")
        try Harness.sh("""
            cd '\(context)' && mkdir -p data/sub && printf 'ff\\n' > "data/$(printf '\\377\\376')" && \
            printf 'cafe\\n' > "data/sub/$(printf 'caf\\351.txt')" && printf 'no\\n' > "data/$(printf 'skip\\351')" && \
            ln -s "$(printf '\\377\\376')" data/link && printf 'data/skip\\351\\n' > .dockerignore && \
            printf 'FROM swiftdock.local/busybox-base\\nCOPY data/ /data/\\nRUN cd /data && find . -mindepth 1 | sort > /listing.txt\\n' > Dockerfile
            """)
        try swiftdock.ok("build", "-q", "-t", "binary-names", context)
        let expected = try Harness.sh("cd '\(context)/data' && find . -mindepth 1 ! -name \"$(printf 'skip\\351')\" -printf '%y %s %P\\0' | sort -z | od -c")

        let out = try Harness.makeTemporaryDirectory("binary-names-out")
        try swiftdock.ok("save", "binary-names", "--format", "oci", "-o", out + "/oci")
        // skopeo reads the image (verifying each blob) into a directory of its own.
        try Harness.sh("cd '\(out)' && skopeo copy --quiet oci:oci:latest dir:copied")
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:latest bundle >/dev/null")
        XCTAssertEqual(try Self.listing(out + "/bundle/rootfs/data"), expected)
        XCTAssertEqual(try Harness.sh("readlink '\(out)/bundle/rootfs/data/link' | od -c"),
                       try Harness.sh("readlink '\(context)/data/link' | od -c"))
        // The COPY layer (the second), as skopeo copied it: GNU tar lists the raw names with no
        // remark (no `hdrcharset` record, Go's form).
        let layer = try Harness.sh("""
            cd '\(out)/copied' && jq -r '.layers[1].digest' manifest.json | cut -d: -f2
            """).trimmingCharacters(in: .whitespacesAndNewlines)
        let listed = try Harness.run("/bin/bash", ["-c", "LC_ALL=C tar --list -v --quoting-style=escape -zf '\(out)/copied/\(layer)'"])
        XCTAssertEqual(listed.status, 0)
        XCTAssertEqual(listed.stderr, "")
        XCTAssertTrue(listed.stdout.contains("data/\\377\\376\n"), listed.stdout)
        XCTAssertTrue(listed.stdout.contains("data/sub/caf\\351.txt\n"), listed.stdout)
        XCTAssertTrue(listed.stdout.contains("data/link -> \\377\\376\n"), listed.stdout)
        XCTAssertFalse(listed.stdout.contains("skip"), listed.stdout)
        // RUN saw the same names.
        XCTAssertEqual(try Harness.sh("od -c '\(out)/bundle/rootfs/listing.txt'"),
                       try Harness.sh("cd '\(context)/data' && find . -mindepth 1 ! -name \"$(printf 'skip\\351')\" | LC_ALL=C sort | od -c"))
    }
}
