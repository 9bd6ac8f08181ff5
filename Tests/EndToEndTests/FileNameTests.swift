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
}
