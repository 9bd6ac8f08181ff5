import Foundation
import XCTest

/// The store stays consistent when builds run at once or die halfway, and both image formats
/// are readable by skopeo.
final class StoreSafetyTests: XCTestCase {
    func testConcurrentBuildsBothLand() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let contexts = try (0..<4).map { i -> String in
            let dir = try Harness.makeTemporaryDirectory("concurrent")
            try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY . /data/\n", to: dir + "/Dockerfile")
            try Harness.sh("head -c 3000000 /dev/urandom > '\(dir)/blob-\(i).bin'")
            return dir
        }
        let script = contexts.enumerated().map { i, dir in
            "SWIFTDOCK_HOME='\(swiftdock.home)' '\(Harness.binary)' build -q -t concurrent:\(i) '\(dir)' > /dev/null &"
        }.joined(separator: "\n") + "\nfail=0; for job in $(jobs -p); do wait $job || fail=1; done; exit $fail"
        try Harness.sh(script)
        let images = try swiftdock.ok("images", "concurrent").stdout
        for i in 0..<4 { XCTAssertTrue(images.contains("concurrent   \(i) "), images) }
        for i in 0..<4 {
            try Harness.sh("skopeo inspect --raw oci:'\(swiftdock.home)':docker.io/library/concurrent:\(i) >/dev/null")
        }
    }

    /// A build killed by SIGKILL at two chosen moments of writing its 80 MB layer: halfway (the
    /// 20th write(2) of a thread: only the layer's writer writes that often, in chunks of about
    /// 0.5 MB) and with the layer whole in its temp file but not renamed into place (the first
    /// rename(2); the base's header index, renamed before the layer is written, is already in
    /// the store from the first case). strace's fault injection delivers the signal at that
    /// system call, so the kill no longer races the build. (It used to: a loop polled `find`
    /// for a temp file and the context, meant to grow, was one 4 MB file — `$i` inside single
    /// quotes — so under load the build often ended between two polls.)
    func testKilledBuildLeavesTheStoreConsistent() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let beforeIndex = try swiftdock.indexJSON()
        let dir = try Harness.makeTemporaryDirectory("killed")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY . /data/\n", to: dir + "/Dockerfile")
        try Harness.sh("for i in $(seq 1 20); do head -c 4000000 /dev/urandom > '\(dir)'/f-$i.bin; done")
        let layerBytes = 80_000_000  // at least: random bytes do not compress
        let cases: [(injection: String, layerWhole: Bool)] = [
            ("write:signal=SIGKILL:when=20", false),
            ("rename:signal=SIGKILL:when=1", true),
        ]
        for c in cases {
            // The temp file the build left is measured before any other command (which would reclaim it).
            let outcome = try Harness.sh("""
            SWIFTDOCK_HOME='\(swiftdock.home)' strace -f -qq -o /dev/null -e trace=write,rename -e inject=\(c.injection) \
              '\(Harness.binary)' build -q -t killed '\(dir)' >/dev/null 2>&1; echo "status=$?"
            find '\(swiftdock.home)/tmp' -type f -size +1M -printf '%s\\n'
            """)
            let lines = outcome.split(separator: "\n")
            XCTAssertEqual(lines.first, "status=137", "\(c.injection): \(outcome)")
            let sizes = lines.dropFirst().compactMap { Int($0) }
            XCTAssertEqual(sizes.count, 1, "\(c.injection): one layer in a temp file: \(outcome)")
            if let size = sizes.first {
                XCTAssertEqual(size >= layerBytes, c.layerWhole, "\(c.injection): the layer's temp file holds \(size) bytes")
            }
            // The index is as it was and every blob is whole (its name is its content's digest);
            // a complete but unreferenced blob may remain, as containerd leaves content for GC.
            XCTAssertEqual(try swiftdock.indexJSON(), beforeIndex, c.injection)
            XCTAssertEqual(try Harness.sh("""
            cd '\(swiftdock.home)/blobs/sha256' && for f in *; do [ "$(sha256sum < "$f" | cut -c1-64)" = "$f" ] || echo "torn: $f"; done
            """), "", c.injection)
            XCTAssertFalse(try swiftdock.ok("images").stdout.contains("killed"), c.injection)
        }
        // And it still works afterwards.
        try swiftdock.ok("build", "-q", "-t", "after", dir)
        try Harness.sh("skopeo inspect --raw oci:'\(swiftdock.home)':docker.io/library/after:latest >/dev/null")
    }

    func testDockerFormatImagesSaveAndReadBack() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let tutorial = Harness.packageRoot.appendingPathComponent("Fixtures/tutorial").path
        try swiftdock.ok("build", "--run=record", "--format", "docker", "-t", "python-docker:docker", tutorial)
        let mediaType = try swiftdock.ok("inspect", "--format", "{{.MediaType}}", "python-docker:docker").stdout
        XCTAssertEqual(mediaType, "application/vnd.docker.distribution.manifest.v2+json\n")
        let out = try Harness.makeTemporaryDirectory("docker") + "/image.tar"
        try swiftdock.ok("save", "python-docker:docker", "--format", "docker", "-o", out)
        let raw = try Harness.sh("skopeo inspect --raw docker-archive:\(out)")
        XCTAssertTrue(raw.contains("application/vnd.docker.image.rootfs.diff.tar.gzip"), raw)
        let copied = try Harness.makeTemporaryDirectory("copied")
        try Harness.sh("skopeo copy -q docker-archive:\(out) oci:\(copied)/oci:latest")
        try Harness.sh("cd '\(copied)' && umoci unpack --rootless --image oci:latest bundle >/dev/null && test -f bundle/rootfs/Sourcecode/input.csv")
    }
}
