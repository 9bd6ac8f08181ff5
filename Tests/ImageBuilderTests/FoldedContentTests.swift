import Foundation
import ImageModel
import ImageStore
import Layers
import XCTest
@testable import ImageBuilder

/// Issue 13 item 3: a COPY whose lookup is certain to miss hashes its sources while writing
/// its layer (`FoldedContent`). Its key, its record and the keys below it must be exactly what
/// hashing up front gives, and later builds must hit on them.
final class FoldedContentTests: XCTestCase {
    /// COPYs of files and of a directory, a config-only step between them (recorded after the
    /// fold), and a second stage starting FROM the first (its parent deferred too).
    static let dockerfile = """
        FROM scratch AS one
        COPY a.txt /a/
        COPY tree /opt/tree
        ENV STEP=two
        COPY b.txt /b/
        FROM one
        COPY a.txt /again/

        """

    private var home = ""

    override func setUpWithError() throws {
        home = NSTemporaryDirectory() + "swiftdock-folded-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home + "/context/tree/sub", withIntermediateDirectories: true)
        try Self.dockerfile.write(toFile: home + "/context/Dockerfile", atomically: true, encoding: .utf8)
        for (name, text) in [("a.txt", "a\n"), ("b.txt", "b\n"), ("tree/one", "1\n"), ("tree/sub/two", "2\n"), ("tree/sub/empty", "")] {
            try text.write(toFile: home + "/context/" + name, atomically: true, encoding: .utf8)
        }
        // Old enough that the file index trusts its entries (git's racy rule).
        for name in ["a.txt", "b.txt", "tree/one", "tree/sub/two", "tree/sub/empty"] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_600_000_000)],
                                                  ofItemAtPath: home + "/context/" + name)
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: home)
    }

    func testFoldedAndHashFirstColdBuildsGiveTheSameKeysRecordsAndImage() async throws {
        // Files changed less than 2 s before they were hashed are never trusted by the index.
        try await Task.sleep(for: .milliseconds(2100))
        let folded = try ImageStore(root: home + "/folded")
        let hashFirst = try ImageStore(root: home + "/hash-first")
        // A record the prefix markers do not cover (as a store from before them has): this
        // store never folds.
        try FileManager.default.createDirectory(atPath: home + "/hash-first/cache/steps", withIntermediateDirectories: true)
        try "{}".write(toFile: home + "/hash-first/cache/steps/" + String(repeating: "0", count: 64), atomically: true, encoding: .utf8)

        let (foldedResult, foldedEvents) = try await build(in: folded)
        let (hashFirstResult, hashFirstEvents) = try await build(in: hashFirst)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home + "/hash-first/cache/step-prefixes/complete"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: home + "/folded/cache/step-prefixes/complete"))
        XCTAssertEqual(foldedEvents.cached, 0)
        XCTAssertEqual(hashFirstEvents.cached, 0)

        XCTAssertEqual(foldedResult.cacheSteps, hashFirstResult.cacheSteps)
        XCTAssertEqual(foldedResult.manifest, hashFirstResult.manifest, "the same image byte for byte")
        XCTAssertEqual(foldedResult.cacheSteps.count, 5)
        for step in foldedResult.cacheSteps {
            let record = folded.stepCacheRecord(key: step.key)
            XCTAssertNotNil(record, "folded build recorded \(step.key)")
            XCTAssertEqual(record, hashFirst.stepCacheRecord(key: step.key), "same record for \(step.key)")
        }

        // Both stores now hit on every step, and the folded one read no file again: its file
        // index holds the digests the layer writer made.
        for store in [folded, hashFirst] {
            let (again, events) = try await build(in: store)
            XCTAssertEqual(again.manifest, foldedResult.manifest)
            XCTAssertEqual(events.cached, 4, "every COPY hits in \(store.root)")
            XCTAssertEqual(events.layersWritten, 0)
        }
        let root = try XCTUnwrap(realPath(home + "/context"))
        let index = FileDigestIndex(root: root, encoded: folded.fileDigestIndex(name: SHA256Stream.digest(of: Array(root.utf8)).encoded))
        for name in ["a.txt", "b.txt", "tree/one", "tree/sub/two", "tree/sub/empty"] {
            XCTAssertEqual(try index.digest(ofFile: root + "/" + name), try SHA256Stream.digest(ofFile: root + "/" + name))
        }
        XCTAssertEqual(index.hashedFiles, 0, "the folded build's index entries are used as they are")
    }

    /// After an edit the edited COPY (its prefix is marked) hashes up front and misses; the
    /// steps below it fold again, and the next build hits on all of them.
    func testAnEditMissesFromTheEditedStepAndTheNextBuildHits() async throws {
        let store = try ImageStore(root: home + "/store")
        let (first, _) = try await build(in: store)
        try "b edited\n".write(toFile: home + "/context/b.txt", atomically: true, encoding: .utf8)
        let (edited, events) = try await build(in: store)
        XCTAssertEqual(events.cached, 2, "the first two COPYs hit")
        XCTAssertEqual(Array(edited.cacheSteps.prefix(3)), Array(first.cacheSteps.prefix(3)))
        XCTAssertNotEqual(edited.cacheSteps[3], first.cacheSteps[3])
        XCTAssertNotEqual(edited.cacheSteps[4], first.cacheSteps[4])

        let hashFirst = try ImageStore(root: home + "/hash-first")
        try FileManager.default.createDirectory(atPath: home + "/hash-first/cache/steps", withIntermediateDirectories: true)
        try "{}".write(toFile: home + "/hash-first/cache/steps/" + String(repeating: "0", count: 64), atomically: true, encoding: .utf8)
        let (reference, _) = try await build(in: hashFirst)
        XCTAssertEqual(edited.cacheSteps, reference.cacheSteps)

        let (again, againEvents) = try await build(in: store)
        XCTAssertEqual(againEvents.cached, 4)
        XCTAssertEqual(again.manifest, edited.manifest)
    }

    /// `--no-cache-filter` of the first stage rebuilds it, hashing up front where its prefixes
    /// are marked, and `--no-cache` folds every COPY: both record the keys the first build did.
    /// (The second stage sits on layers this build is writing, so it never hits here.)
    func testNoCacheBuildsRecordTheSameKeys() async throws {
        let store = try ImageStore(root: home + "/store")
        let (first, _) = try await build(in: store)
        let (filtered, filteredEvents) = try await build(in: store) { $0.noCacheStages = ["one"] }
        XCTAssertEqual(filteredEvents.cached, 0)
        XCTAssertEqual(filtered.cacheSteps, first.cacheSteps)
        XCTAssertEqual(filtered.manifest, first.manifest)
        let (noCache, noCacheEvents) = try await build(in: store) { $0.noCache = true }
        XCTAssertEqual(noCacheEvents.cached, 0)
        XCTAssertEqual(noCache.cacheSteps, first.cacheSteps)
        XCTAssertEqual(noCache.manifest, first.manifest)
        let (again, againEvents) = try await build(in: store)
        XCTAssertEqual(againEvents.cached, 4)
        XCTAssertEqual(again.manifest, first.manifest)
    }

    func testADeferredKeyResolvesToTheKeyItWouldHaveHad() throws {
        var parent = StepCacheKey(parent: "p")
        parent.add("instruction", "COPY a /")
        var known = StepCacheKey(parent: .known(parent.value))
        var deferred = StepCacheKey(parent: .deferred(parent))
        for key in [0, 1] {
            var k = key == 0 ? known : deferred
            k.add("instruction", "ENV A=1")
            k.add("args", "")
            if key == 0 { known = k } else { deferred = k }
        }
        XCTAssertTrue(known.isKnown)
        XCTAssertFalse(deferred.isKnown)
        XCTAssertEqual(try deferred.resolved(), known.value)
        XCTAssertEqual(try StepCacheKey.stageParent(deferred.reference).resolved(), StepCacheKey.stageParent(known.value))
    }

    func testContentDigestFromTheWritersReadsMatchesHashingUpFrontAndRefusesAMismatch() throws {
        let directory = home + "/context"
        let items: [LayerItem] = [
            .entry(LayerEntry(path: "x", kind: .directory, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 1)),
            .entry(LayerEntry(path: "x/a", kind: .regularFile(.file(path: directory + "/a.txt", size: 2)), mode: 0o644,
                              uid: 0, gid: 0, mtimeSeconds: 1)),
            .entry(LayerEntry(path: "x/b", kind: .regularFile(.file(path: directory + "/b.txt", size: 2)), mode: 0o600,
                              uid: 1, gid: 2, mtimeSeconds: 1)),
        ]
        let recording = SourceFileDigests()
        _ = try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: home + "/layer"), recording: recording)
        let folded = FoldedContent(items: items, write: PendingLayerWrite(), prefix: StepCacheKey(parent: "p"), recording: recording)
        XCTAssertEqual(try folded.contentDigest(from: recording.reads), try StepCacheKey.contentDigest(of: items))
        XCTAssertThrowsError(try folded.contentDigest(from: recording.reads.reversed()))
        XCTAssertThrowsError(try folded.contentDigest(from: Array(recording.reads.dropLast())))
        XCTAssertTrue(FoldedContent.canFold(items))
        XCTAssertFalse(FoldedContent.canFold(Array(items.prefix(1))), "nothing to hash")
        XCTAssertFalse(FoldedContent.canFold(items + [.archive(archivePath: directory + "/a.txt", destination: "", owner: nil)]))
    }

    // MARK: helpers

    private struct Events {
        var cached = 0
        var layersWritten = 0
    }

    private func build(in store: ImageStore, _ adjust: (inout BuildOptions) -> Void = { _ in }) async throws -> (BuildResult, Events) {
        final class Collected: @unchecked Sendable {
            let lock = NSLock()
            var events = Events()
        }
        let collected = Collected()
        var options = BuildOptions(contextDirectory: home + "/context", tags: [try Reference(parsing: "folded.example/image:1")],
                                   runMode: .record, sourceDateEpoch: 1_700_000_000)
        adjust(&options)
        let result = try await ImageBuilder(store: store) { event in
            collected.lock.withLock {
                switch event {
                case .cached: collected.events.cached += 1
                case .layerWritten: collected.events.layersWritten += 1
                default: break
                }
            }
        }.build(options)
        return (result, collected.lock.withLock { collected.events })
    }

    private func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
