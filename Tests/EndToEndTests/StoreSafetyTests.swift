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

    func testKilledBuildLeavesTheStoreConsistent() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let beforeIndex = try swiftdock.indexJSON()
        let dir = try Harness.makeTemporaryDirectory("killed")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY . /data/\n", to: dir + "/Dockerfile")
        // Kill the build as soon as it has bytes in a temp file; if it won the race, retry with
        // more data (a finished build is removed again first).
        var killedMidWrite = false
        for attempt in 1...4 where !killedMidWrite {
            try Harness.sh("for i in $(seq 1 \(20 * attempt)); do head -c 4000000 /dev/urandom > '\(dir)/f\(attempt)-$i.bin'; done")
            let outcome = try Harness.sh("""
            SWIFTDOCK_HOME='\(swiftdock.home)' '\(Harness.binary)' build -q -t killed '\(dir)' >/dev/null 2>&1 & pid=$!
            while kill -0 $pid 2>/dev/null; do
              [ -n "$(find '\(swiftdock.home)/tmp' -type f -size +0 2>/dev/null | head -n 1)" ] && { kill -9 $pid; break; }
            done
            wait $pid; echo "status=$?"
            """)
            killedMidWrite = outcome.contains("status=137")
            if !killedMidWrite { try swiftdock.ok("rmi", "killed") }
        }
        XCTAssertTrue(killedMidWrite, "the build was never caught while writing a layer")
        // The index is as it was and every blob is whole (its name is its content's digest);
        // a complete but unreferenced blob may remain, as containerd leaves content for GC.
        XCTAssertEqual(try swiftdock.indexJSON(), beforeIndex)
        XCTAssertEqual(try Harness.sh("""
        cd '\(swiftdock.home)/blobs/sha256' && for f in *; do [ "$(sha256sum < "$f" | cut -c1-64)" = "$f" ] || echo "torn: $f"; done
        """), "")
        XCTAssertFalse(try swiftdock.ok("images").stdout.contains("killed"))
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
