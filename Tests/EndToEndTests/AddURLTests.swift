import Foundation
import ProcessWaiting
import XCTest

/// `ADD <URL>` against a loopback HTTP server: mode 0600, Last-Modified as mtime, --checksum.
final class AddURLTests: XCTestCase {
    var server: Process?
    var serverExit: ProcessExit?
    var port = 0
    var root = ""

    override func setUpWithError() throws {
        root = try Harness.makeTemporaryDirectory("www")
        try Harness.write("model weights v1\n", to: root + "/files/weights.bin")
        try Harness.sh("touch -d '2024-02-03 04:05:06 UTC' '\(root)/files/weights.bin'")
        port = Int(try Harness.sh("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", root, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        serverExit = try ProcessExit.start(process)
        server = process
        try Harness.sh("for i in $(seq 1 100); do curl -fs http://127.0.0.1:\(port)/files/weights.bin >/dev/null && exit 0; sleep 0.05; done; exit 1")
    }

    override func tearDown() {
        server?.terminate()
        serverExit?.wait()
    }

    /// `--provenance` lists each download by the digest of its bytes, without the URL's query
    /// (a signed URL's token lives there).
    func testProvenanceListsDownloadsWithoutTheirQuery() throws {
        let swiftdock = try Swiftdock()
        let context = try Harness.makeTemporaryDirectory("addurl")
        let sum = try Harness.sh("sha256sum '\(root)/files/weights.bin' | cut -c1-64").trimmingCharacters(in: .whitespacesAndNewlines)
        try Harness.write("FROM scratch\nADD http://127.0.0.1:\(port)/files/weights.bin?X-Goog-Signature=s3cr3t /w\n",
                          to: context + "/Dockerfile")
        let built = try swiftdock.ok("build", "--provenance", "-t", "addurl-prov", context)
        let manifest = try XCTUnwrap(SBOMTests.digest(after: "writing manifest ", in: built.stderr), built.stderr)
        let (_, bytes) = try ProvenanceTests.provenance(of: manifest, in: swiftdock.home)
        XCTAssertFalse(String(decoding: bytes, as: UTF8.self).contains("s3cr3t"))
        let statement = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let definition = (statement["predicate"] as? [String: Any])?["buildDefinition"] as? [String: Any]
        let dependencies = try XCTUnwrap(definition?["resolvedDependencies"] as? [[String: Any]])
        XCTAssertEqual(dependencies.count, 1, "\(dependencies)")
        XCTAssertEqual(dependencies.first?["uri"] as? String, "http://127.0.0.1:\(port)/files/weights.bin")
        XCTAssertEqual(dependencies.first?["digest"] as? [String: String], ["sha256": sum])
    }

    func testAddURLDownloadsWithModeMtimeAndChecksum() throws {
        let swiftdock = try Swiftdock()
        let context = try Harness.makeTemporaryDirectory("addurl")
        let sum = try Harness.sh("sha256sum '\(root)/files/weights.bin' | cut -c1-64").trimmingCharacters(in: .whitespacesAndNewlines)
        try Harness.write("""
        FROM scratch
        ADD --checksum=sha256:\(sum) http://127.0.0.1:\(port)/files/weights.bin /models/
        ADD http://127.0.0.1:\(port)/files/weights.bin /renamed.bin
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-t", "addurl", context)
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "addurl").stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        let listing = try (manifest["layers"] as! [[String: Any]]).map { layer -> String in
            let digest = (layer["digest"] as! String).dropFirst(7)
            return try Harness.sh("TZ=UTC tar --numeric-owner --full-time -tvzf '\(swiftdock.home)/blobs/sha256/\(digest)'")
        }.joined()
        XCTAssertTrue(listing.contains("-rw------- 0/0") && listing.contains("models/weights.bin"), listing)
        XCTAssertTrue(listing.contains("2024-02-03 04:05:06 models/weights.bin"), listing)
        XCTAssertTrue(listing.contains("renamed.bin"), listing)

        try Harness.write("FROM scratch\nADD --checksum=sha256:\(String(repeating: "0", count: 64)) http://127.0.0.1:\(port)/files/weights.bin /w\n",
                          to: context + "/Dockerfile")
        let bad = try swiftdock("build", "-t", "addurl-bad", context)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("Dockerfile:2: ADD: ") && bad.stderr.contains("checksum mismatch"), bad.stderr)

        try Harness.write("FROM scratch\nADD http://127.0.0.1:\(port)/files/missing.bin /w\n", to: context + "/Dockerfile")
        let missing = try swiftdock("build", "-t", "addurl-missing", context)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("404"), missing.stderr)
    }
}
