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
        let before = try swiftdock.fingerprint()
        let dir = try Harness.makeTemporaryDirectory("killed")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY . /data/\n", to: dir + "/Dockerfile")
        try Harness.sh("for i in $(seq 1 40); do head -c 4000000 /dev/urandom > '\(dir)/f$i.bin'; done")
        // Kill the build while it writes its layer, then check the store is as it was.
        try Harness.sh("""
        SWIFTDOCK_HOME='\(swiftdock.home)' '\(Harness.binary)' build -q -t killed '\(dir)' >/dev/null 2>&1 & pid=$!
        for i in $(seq 1 2000); do
          [ -n "$(find '\(swiftdock.home)/tmp' -type f -size +1M 2>/dev/null | head -n 1)" ] && break; sleep 0.005
        done
        kill -9 $pid; wait $pid 2>/dev/null; true
        """)
        XCTAssertNotEqual(try Harness.sh("find '\(swiftdock.home)/tmp' -type f | wc -l"), "0\n", "killed while writing a layer")
        XCTAssertEqual(try swiftdock.fingerprint(), before)
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
