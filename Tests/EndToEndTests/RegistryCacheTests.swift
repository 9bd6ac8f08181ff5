import Foundation
import XCTest

/// `--cache-to` / `--cache-from` through the CNCF registry of `scripts/registries.sh` and through
/// a local OCI layout, between stores that start empty; `mode=min|max`, `--no-cache-filter`,
/// and `--pull` with a changed base digest.
final class RegistryCacheTests: XCTestCase {
    var registry: String!
    var context: String!
    /// A unique repository prefix per test in the shared registry.
    var prefix: String!
    var seeder: Swiftdock!

    override func setUpWithError() throws {
        guard let value = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !value.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        registry = value
        prefix = "\(value)/cache-\(UUID().uuidString.prefix(8).lowercased())"
        seeder = try Swiftdock()
        try seeder.buildBase()
        try seeder.ok("tag", "swiftdock.local/busybox-base", "\(prefix!)/base:v1")
        try seeder.ok("push", "-q", "\(prefix!)/base:v1")
        context = try Harness.makeTemporaryDirectory("regcache")
        try Harness.write("one\n", to: context + "/a.txt")
        // The build stage's RUN is deterministic, so re-running it (mode=min) yields the same
        // layer and the final stage's keys stay the same; the final RUN is not.
        try Harness.write("""
            FROM \(prefix!)/base:v1 AS build
            COPY a.txt /a/
            RUN cp /a/a.txt /built
            FROM \(prefix!)/base:v1
            COPY --from=build /built /built
            ENV X=1
            RUN cat /proc/sys/kernel/random/uuid > /stamp

            """, to: context + "/Dockerfile")
    }

    /// Builds `-t out`; returns the steps progress marked CACHED, and stderr.
    @discardableResult
    private func build(_ store: Swiftdock, _ extra: [String], file: StaticString = #filePath, line: UInt = #line)
        throws -> (cached: [Int], stderr: String) {
        let result = try store.run(["build", "-t", "out"] + extra + [context])
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        let cached = result.stderr.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("#"), line.hasSuffix(" CACHED") else { return nil }
            return Int(line.dropFirst().dropLast(" CACHED".count))
        }
        return (cached, result.stderr)
    }

    private func digest(_ store: Swiftdock, _ image: String = "out") throws -> String {
        try store.ok("inspect", "-f", "{{.Digest}}", image).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func stamp(_ store: Swiftdock) throws -> String {
        try store.ok("run", "--rm", "out", "cat", "/stamp").stdout
    }

    func testRegistryCacheMakesAnEmptyStoreBuildTheSameImageWithoutRunning() throws {
        let cacheRef = "\(prefix!)/cache:main"
        XCTAssertEqual(try build(seeder, ["--cache-to", "type=registry,ref=\(cacheRef),mode=max"]).cached, [])
        let fresh = try Swiftdock()
        let second = try build(fresh, ["--cache-from", cacheRef])
        XCTAssertEqual(second.cached, [2, 3, 5, 7], second.stderr)
        XCTAssertEqual(try digest(fresh), try digest(seeder), "the same image, byte for byte")
        // The final RUN's layer is needed by nothing in the build: it stays in the registry
        // (recorded as a remote source) until `run` reads it.
        let sources = try String(contentsOfFile: fresh.home + "/remote-sources.json", encoding: .utf8)
        XCTAssertTrue(sources.contains("/cache\""), sources)
        let manifestPath = fresh.home + "/blobs/sha256/" + (try digest(fresh)).dropFirst(7)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any]
        let top = try XCTUnwrap((manifest?["layers"] as? [[String: Any]])?.last?["digest"] as? String)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.home + "/blobs/sha256/" + top.dropFirst(7)),
                       "the last RUN's layer was not downloaded by the build")
        XCTAssertEqual(try stamp(fresh), try stamp(seeder), "the RUN was not executed again: its output came from the cache")
        // The imported records are now local: a rebuild hits without --cache-from.
        XCTAssertEqual(try build(fresh, []).cached, [2, 3, 5, 7])
    }

    func testAllHitRunStepsDownloadNoLayer() throws {
        try Harness.write("FROM \(prefix!)/base:v1\nRUN echo one > /one\nRUN echo two > /two\n", to: context + "/Dockerfile")
        let cacheRef = "\(prefix!)/cache:runs"
        try build(seeder, ["--cache-to", "type=registry,ref=\(cacheRef)"])
        let fresh = try Swiftdock()
        let fetched = try blobGETs { XCTAssertEqual(try build(fresh, ["--cache-from", cacheRef]).cached, [2, 3]) }
        XCTAssertEqual(try digest(fresh), try digest(seeder))
        let layers = try layerDigests(seeder, "out")
        XCTAssertEqual(fetched.filter { layers.contains($0) }, [], "no layer read from the registry, not even streamed")
        // Only the base's and the image's manifests and configs, and the cache's manifest and config.
        let blobs = try FileManager.default.contentsOfDirectory(atPath: fresh.home + "/blobs/sha256")
        for blob in blobs {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: fresh.home + "/blobs/sha256/" + blob))
            XCTAssertEqual(bytes.first, UInt8(ascii: "{"), "\(blob): no layer was downloaded (\(blobs.count) blobs)")
        }
        XCTAssertEqual(try fresh.ok("run", "--rm", "out", "cat", "/one", "/two").stdout, "one\ntwo\n")
    }

    /// Issue 13's end-to-end checks through a registry cache, counting what a fresh store
    /// downloads (the registry's access log: every blob GET under this test's repositories).
    /// Without a change: no RUN runs, and the image is the seeder's to the byte; the only layers
    /// read are those under the COPY, streamed once each for their header index (the COPY's key
    /// holds what it will write under BuildKit's destination rules, which depend on the tree it
    /// lands in) — never the COPY's own layer nor the last RUN's, which nothing reads. After an
    /// edit: only the steps after it run, and the layers fetched are the RUN's lower dirs (the
    /// base and the cached RUN before the edit), once each.
    func testAFreshStoreFetchesOnlyTheLayersItNeeds() throws {
        try Harness.write("""
            FROM \(prefix!)/base:v1
            RUN echo one > /one
            COPY a.txt /a/
            RUN cat /proc/sys/kernel/random/uuid > /stamp

            """, to: context + "/Dockerfile")
        let cacheRef = "\(prefix!)/cache:fetch"
        try build(seeder, ["--cache-to", "type=registry,ref=\(cacheRef),mode=max"])
        let baseLayers = Set(try layerDigests(seeder, "\(prefix!)/base:v1"))
        let imageLayers = try layerDigests(seeder, "out")
        XCTAssertEqual(imageLayers.count, baseLayers.count + 3)
        let firstRun = imageLayers[baseLayers.count], lastRun = imageLayers[baseLayers.count + 2]

        let unchanged = try Swiftdock()
        var fetched = try blobGETs { XCTAssertEqual(try build(unchanged, ["--cache-from", cacheRef]).cached, [2, 3, 4]) }
        XCTAssertEqual(try digest(unchanged), try digest(seeder), "the same image, byte for byte")
        XCTAssertEqual(try stamp(unchanged), try stamp(seeder), "the last RUN was not executed")
        var layers = fetched.filter { imageLayers.contains($0) }
        XCTAssertEqual(Set(layers), baseLayers.union([firstRun]), "the layers under the COPY: \(layers.map { imageLayers.firstIndex(of: $0)! })")
        XCTAssertEqual(layers.count, Set(layers).count, "each at most once: \(layers)")

        try Harness.write("one, edited\n", to: context + "/a.txt")
        let edited = try Swiftdock()
        fetched = try blobGETs { XCTAssertEqual(try build(edited, ["--cache-from", cacheRef]).cached, [2], "COPY and the RUN after it run") }
        XCTAssertNotEqual(try stamp(edited), try stamp(seeder), "the RUN after the edit was executed")
        XCTAssertEqual(try edited.ok("run", "--rm", "out", "cat", "/one", "/a/a.txt").stdout, "one\none, edited\n")
        layers = fetched.filter { imageLayers.contains($0) }
        XCTAssertEqual(Set(layers), baseLayers.union([firstRun]), "the RUN's lower dirs: \(layers)")
        XCTAssertEqual(layers.count, Set(layers).count, "each once: \(layers)")
        XCTAssertFalse(layers.contains(lastRun))
    }

    /// The layer digests of `image`'s manifest in `store`.
    private func layerDigests(_ store: Swiftdock, _ image: String) throws -> [String] {
        let manifestPath = store.home + "/blobs/sha256/" + (try digest(store, image)).dropFirst(7)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any]
        return try XCTUnwrap(manifest?["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
    }

    /// The digests of the blobs GET from this test's repositories while `body` ran, in order,
    /// from the open registry's access log (`scripts/registries.sh` keeps it in STATE/logs).
    private func blobGETs(_ body: () throws -> Void) throws -> [String] {
        guard let state = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_STATE_DIR"], !state.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_STATE_DIR is not set: start the fixtures with scripts/registries.sh")
        }
        let log = state + "/logs/open.log"
        let start = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? NSNumber)?.uint64Value ?? 0
        try body()
        // A request after the build's own: once its line is logged, so are theirs (each line is
        // written as its response completes, before the build could go on).
        let repository = String(prefix!.drop { $0 != "/" }.dropFirst())
        let sentinel = "/v2/\(repository)/sentinel-\(UUID().uuidString.prefix(8).lowercased())/manifests/x"
        _ = try Harness.sh("curl -s -o /dev/null 'http://\(registry!)\(sentinel)'; for i in $(seq 1 50); do grep -q '\(sentinel)' '\(log)' && break; sleep 0.1; done; true")
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        try handle.seek(toOffset: start)
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        XCTAssertTrue(text.contains(sentinel), "the registry logged the sentinel request")
        return text.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("\"GET /v2/\(repository)/"), let range = line.range(of: "/blobs/sha256:") else { return nil }
            let hex = line[range.upperBound...].prefix(64)
            return hex.count == 64 ? "sha256:" + hex : nil
        }
    }

    func testModeMinExportsOnlyTheFinalStage() throws {
        let cacheRef = "\(prefix!)/cache:min"
        try build(seeder, ["--cache-to", "type=registry,ref=\(cacheRef)"])
        let fresh = try Swiftdock()
        XCTAssertEqual(try build(fresh, ["--cache-from", "type=registry,ref=\(cacheRef)"]).cached, [5, 7],
                       "the build stage runs again; the final stage's steps come from the cache")
        XCTAssertEqual(try digest(fresh), try digest(seeder))
    }

    func testLocalLayoutCacheAndSeveralSources() throws {
        let directory = try Harness.makeTemporaryDirectory("layoutcache") + "/cache"
        try build(seeder, ["--cache-to", "type=local,dest=\(directory),mode=max"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/oci-layout"))
        let index = try String(contentsOfFile: directory + "/index.json", encoding: .utf8)
        XCTAssertTrue(index.contains("\"org.opencontainers.image.ref.name\":\"latest\""), index)
        let fresh = try Swiftdock()
        // A missing cache is a warning (as in BuildKit); the next source still counts.
        let result = try build(fresh, ["--cache-from", "\(prefix!)/cache:absent", "--cache-from", "type=local,src=\(directory)"])
        XCTAssertEqual(result.cached, [2, 3, 5, 7], result.stderr)
        XCTAssertTrue(result.stderr.contains("WARNING: cache import from \(prefix!)/cache:absent failed"), result.stderr)
        XCTAssertEqual(try digest(fresh), try digest(seeder))
        XCTAssertEqual(try stamp(fresh), try stamp(seeder))

        // A cache that cannot be written fails the build, after the image is stored.
        let failed = try fresh.run(["build", "-t", "kept", "--cache-to", "type=local,dest=/dev/null/cache", context])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertTrue(failed.stderr.contains("cache export to /dev/null/cache failed (the image sha256:"), failed.stderr)
        XCTAssertEqual(try digest(fresh, "kept"), try digest(seeder))
    }

    func testNoCacheFilterRunsOnlyThatStage() throws {
        try build(seeder, [])
        XCTAssertEqual(try build(seeder, []).cached, [2, 3, 5, 7])
        let filtered = try build(seeder, ["--no-cache-filter", "build"])
        XCTAssertEqual(filtered.cached, [5, 7], "the build stage executes; its identical result keeps the final stage's keys")
        XCTAssertEqual(try build(seeder, ["--no-cache-filter", "1"]).cached, [2, 3], "a stage by index")
        XCTAssertTrue(try build(seeder, ["--no-cache-filter", "nosuch"]).stderr.contains("WARNING: --no-cache-filter nosuch: no stage"))
    }

    func testPullReResolvesTheBaseAndANewDigestInvalidatesEverything() throws {
        let base = "\(prefix!)/pullbase:v1"
        let baseContext = try Harness.makeTemporaryDirectory("pullbase")
        func pushBase(_ version: String) throws {
            try Harness.write("FROM swiftdock.local/busybox-base\nRUN echo \(version) > /version\n", to: baseContext + "/Dockerfile")
            try seeder.ok("build", "-q", "-t", base, baseContext)
            try seeder.ok("push", "-q", base)
        }
        try pushBase("1")
        let user = try Swiftdock()
        try Harness.write("FROM \(base)\nCOPY a.txt /a/\nRUN cat /version > /seen\n", to: context + "/Dockerfile")
        try build(user, [])
        XCTAssertEqual(try build(user, ["--pull"]).cached, [2, 3], "the same base digest: --pull still hits")
        // The base changes in the registry: without --pull the stored one is used.
        try pushBase("2")
        XCTAssertEqual(try build(user, []).cached, [2, 3])
        let pulled = try build(user, ["--pull"])
        XCTAssertEqual(pulled.cached, [], "a new base digest changes every key above it")
        XCTAssertEqual(try user.ok("run", "--rm", "out", "cat", "/seen").stdout, "2\n")
        XCTAssertEqual(try build(user, []).cached, [2, 3])
    }

    func testBadSpecsAreUsageErrors() throws {
        let store = try Swiftdock()
        let cases: [(flag: String, value: String, message: String)] = [
            ("--cache-to", "type=gha", "unsupported cache type \"gha\""),
            ("--cache-to", "type=registry", "type=registry needs ref=REF"),
            ("--cache-to", "ref=\(registry!)/x,mode=all", "mode must be min or max"),
            ("--cache-to", "type=local,src=/tmp/x", "type=local needs dest=DIR"),
            ("--cache-to", "ref=\(registry!)/x,colour=red", "unknown key \"colour\""),
            ("--cache-to", "ref=\(registry!)/x,ref=\(registry!)/y", "ref given twice"),
            ("--cache-to", "type=local,dest=/tmp/x,tag=../../etc", "tag must be"),
            ("--cache-from", "type=registry,ref=Bad/Name", "must be lowercase"),
            ("--cache-from", "ref=\(registry!)/x,mode=max", "mode= applies to --cache-to only"),
            ("--cache-from", "", "expected key=value pairs"),
        ]
        for c in cases {
            let result = try store.run(["build", c.flag, c.value, context])
            XCTAssertEqual(result.status, 125, "\(c.value): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(c.message), "\(c.value): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
        }
    }
}
