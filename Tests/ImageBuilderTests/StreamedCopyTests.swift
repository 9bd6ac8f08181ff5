import BuildContext
import DockerfileSyntax
import Foundation
import ImageModel
import ImageStore
@testable import Layers
import TestSupport
import XCTest
@testable import ImageBuilder

/// Issue 12: `build --push` writes (and uploads) a COPY's layer while the context walk is
/// still planning it (`CopyPlanner.plan(streamingInto:)`, `StageExecutor.addStreamedCopy`).
/// The streamed plan must be the plan, item for item, so the layer's bytes, its digest and
/// the step's key are what the unstreamed build makes; a walk that fails half-way must fail
/// the step with the walk's own one-line error and leave the store as it was.
final class StreamedCopyTests: XCTestCase {
    private var home = ""
    private var context: String { home + "/context" }

    override func setUpWithError() throws {
        home = NSTemporaryDirectory() + "swiftdock-streamed-\(UUID().uuidString)"
        try makeOddTree(at: context + "/tree")
        try "other\n".write(toFile: context + "/other.txt", atomically: true, encoding: .utf8)
        // Excluded: a file, a directory, and a directory with an exception inside it (its
        // parents are emitted only before that file).
        try "**/*.secret\ntree/skipped\ntree/mostly-skipped\n!tree/mostly-skipped/keep/kept.txt\n"
            .write(toFile: context + "/.dockerignore", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Directories (empty, nested, several chunks of the walk), symlinks (relative, absolute,
    /// dangling), hard links (within a directory and across), names that sort around `/`
    /// (`a b`, `a-b`, `a.b`, `a/…`), NFC and NFD `é`, a name that is not UTF-8, excluded paths.
    private func makeOddTree(at root: String) throws {
        let fm = FileManager.default
        for dir in ["a/x", "a b", "a-b", "a.b", "empty", "skipped/deep", "mostly-skipped/keep", "mostly-skipped/gone", "many"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        // Pairs, not a dictionary: Swift's String equality takes NFC and NFD `é` for one key.
        let files: [(String, String)] = [
            ("a/x/one.txt", "1\n"), ("a/two", "2\n"), ("a b/three", "3"), ("a-b/four", ""), ("a.b/five", "5\n"),
            ("d\u{E9}", "nfc"), ("de\u{301}", "nfd"), ("top.secret", "no"), ("skipped/deep/f", "no"),
            ("mostly-skipped/keep/kept.txt", "kept"), ("mostly-skipped/gone/g", "no"), ("mostly-skipped/x", "no"),
        ]
        for (name, text) in files { try text.write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        for n in 0..<700 {
            try String(repeating: "line \(n)\n", count: n % 7).write(toFile: root + "/many/f\(n)", atomically: false, encoding: .utf8)
        }
        try fm.createSymbolicLink(atPath: root + "/a/rel", withDestinationPath: "two")
        try fm.createSymbolicLink(atPath: root + "/abs", withDestinationPath: "/etc/passwd")
        try fm.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: "nowhere/at/all")
        XCTAssertEqual(link(root + "/a/two", root + "/a/two-again"), 0)
        XCTAssertEqual(link(root + "/a/two", root + "/many/linked"), 0)
        XCTAssertEqual(link(root + "/a.b/five", root + "/zz-five"), 0)
        let binary = Array((root + "/caf").utf8) + [0xE9, 0xFF] + Array(".bin".utf8) + [0]
        let fd = binary.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o640) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(write(fd, "latin-1 name", 12), 12)
        close(fd)
        XCTAssertEqual(chmod(root + "/a.b/five", 0o600), 0)
    }

    // MARK: the plan

    /// Every shape: the items streamed are the items planned, in order, with the same stamps;
    /// a single directory source comes in several chunks (before the walk ended), anything
    /// else in one. The layer written from the stream is the layer written from the list.
    func testTheStreamedPlanIsThePlan() async throws {
        let cases: [(name: String, copy: CopyInstruction, chunked: Bool)] = [
            ("directory below missing parents", CopyInstruction(sources: ["tree"], destination: "/deep/er/dest"), true),
            ("directory contents into a directory", CopyInstruction(sources: ["tree/"], destination: "/app/"), true),
            ("the whole context", CopyInstruction(sources: ["."], destination: "/ctx/"), true),
            ("--exclude and --chmod", CopyInstruction(sources: ["tree"], destination: "/x/", chmod: "640", excludes: ["many/f1*"]), true),
            ("--chown", CopyInstruction(sources: ["tree"], destination: "/o", chown: "7:8"), true),
            ("into the root", CopyInstruction(sources: ["tree"], destination: "/"), true),
            ("two sources", CopyInstruction(sources: ["tree/a", "other.txt"], destination: "/two/"), false),
            ("a wildcard", CopyInstruction(sources: ["tree/a?b"], destination: "/w/"), false),
            ("one file", CopyInstruction(sources: ["other.txt"], destination: "/f"), false),
            ("--parents", CopyInstruction(sources: ["tree/a"], destination: "/p/", parents: true), false),
        ]
        let directory = try ContextDirectory.buildContext(root: context, dockerfilePath: context + "/Dockerfile")
        for c in cases {
            var owner: Owner? = nil
            if c.copy.chown != nil { owner = Owner(uid: 7, gid: 8) }
            let chmod = try c.copy.chmod.map { try FileModeChange(parsing: $0) }
            func planner() -> CopyPlanner {
                CopyPlanner(instruction: c.copy, isAdd: false, source: .init(directory: directory, owners: nil), workdir: "/",
                            view: FilesystemView(), owner: owner, chmod: chmod, now: 1_700_000_000)
            }
            var plain = planner()
            let expected = try plain.plan()
            var streaming = planner()
            let stream = LayerItemStream()
            let items = try streaming.plan(streamingInto: stream)
            XCTAssertTrue(streaming.streamedInOrder, c.name)
            stream.finish()
            XCTAssertEqual(items, expected, c.name)
            XCTAssertEqual(streaming.plannedStamps, plain.plannedStamps, c.name)
            var chunks = 0
            var streamed: [LayerItem] = []
            while let chunk = try stream.chunk(chunks) { streamed += chunk; chunks += 1 }
            XCTAssertEqual(streamed, expected, c.name)
            XCTAssertEqual(chunks > 1, c.chunked, "\(c.name): \(chunks) chunks")
            XCTAssertEqual(try StepCacheKey.contentDigest(of: streamed), try StepCacheKey.contentDigest(of: expected), c.name)
        }
        // The layer and the writer's digests of the sources, from the stream and from the list.
        var planner = CopyPlanner(instruction: CopyInstruction(sources: ["tree"], destination: "/t"), isAdd: false,
                                  source: .init(directory: directory, owners: nil), workdir: "/", view: FilesystemView(),
                                  owner: nil, chmod: nil, now: 1_700_000_000)
        let stream = LayerItemStream()
        let writer = LayerWriter(sourceDateEpoch: 1_700_000_000)
        let (streamedRecording, listRecording) = (SourceFileDigests(), SourceFileDigests())
        let sink = try FileBlobSink(path: home + "/streamed")
        async let fromStream = writer.write(stream, to: sink, recording: streamedRecording)
        let items = try planner.plan(streamingInto: stream)
        stream.finish()
        let fromList = try await writer.write(items, to: try FileBlobSink(path: home + "/list"), recording: listRecording)
        let streamedLayer = try await fromStream
        XCTAssertEqual(streamedLayer, fromList)
        XCTAssertEqual(try SHA256Stream.digest(ofFile: home + "/streamed"), fromList.digest)
        XCTAssertEqual(streamedRecording.reads.map(\.digest), listRecording.reads.map(\.digest))
    }

    // MARK: whole builds

    /// `build --push` (store copy kept, and `--output type=registry`) and `build` (both
    /// streaming the COPY) against `build` hashing it up front: the same keys, the same image,
    /// and the uploaded layers are the stored ones, byte for byte.
    func testBuildPushGivesTheKeysAndImageOfTheUnstreamedBuild() async throws {
        try """
            FROM scratch
            COPY tree /deep/tree
            ENV STEP=two
            COPY tree/ /again/
            COPY . /ctx

            """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let folded = try ImageStore(root: home + "/folded")
        let (reference, _) = try await build(in: folded)
        let hashFirst = try ImageStore(root: home + "/hash-first")
        // A record the prefix markers do not cover: this store never folds (FoldedContentTests).
        try FileManager.default.createDirectory(atPath: home + "/hash-first/cache/steps", withIntermediateDirectories: true)
        try "{}".write(toFile: home + "/hash-first/cache/steps/" + String(repeating: "0", count: 64), atomically: true, encoding: .utf8)
        let (hashed, _) = try await build(in: hashFirst)
        XCTAssertEqual(hashed.cacheSteps, reference.cacheSteps)
        XCTAssertEqual(hashed.manifest, reference.manifest)
        let layers = try folded.image(reference.manifest).manifest.layers
        XCTAssertEqual(layers.count, 3)

        for keepInStore in [true, false] {
            let uploader = FakeUploader()
            let store = try ImageStore(root: home + "/pushed-\(keepInStore)")
            // `--output type=registry` names no store tag.
            let (pushed, cached) = try await build(in: store, push: LayerPush(uploader: uploader, keepInStore: keepInStore),
                                                   tagged: keepInStore)
            await uploader.finishUploads()
            XCTAssertEqual(cached, 0)
            XCTAssertEqual(pushed.cacheSteps, reference.cacheSteps, "keepInStore \(keepInStore)")
            XCTAssertEqual(pushed.manifest, reference.manifest, "keepInStore \(keepInStore)")
            XCTAssertEqual(uploader.streamed.count, 3)
            XCTAssertEqual(Set(uploader.streamed.map(SHA256Stream.digest(of:))), Set(layers.map(\.digest)))
            for layer in layers {
                let bytes = try XCTUnwrap(uploader.streamed.first { SHA256Stream.digest(of: $0) == layer.digest })
                XCTAssertEqual(bytes, Array(try Data(contentsOf: URL(fileURLWithPath: folded.blobPath(layer.digest)))))
            }
            // The next build of the pushed store hits on every step, as after a plain build.
            if keepInStore {
                let (again, events) = try await build(in: store)
                XCTAssertEqual(events, 3)
                XCTAssertEqual(again.manifest, reference.manifest)
            }
        }
    }

    /// A walk that fails after hundreds of entries were streamed (a path past PATH_MAX, which
    /// root meets too): `build --push` fails with the error `build` gives, on one line,
    /// nothing reaches the registry, and the store is as it was.
    func testAWalkThatFailsMidwayFailsTheStepAndLeavesTheStoreAsItWas() async throws {
        try makeTreeDeeperThanPathMax(below: context + "/tree/many")
        var errors: [String] = []
        for push in [false, true] {
            let uploader = FakeUploader()
            let store = try ImageStore(root: home + "/store-\(push)")
            // A store with an image and records in it, as a store usually is.
            try "FROM scratch\nCOPY other.txt /o\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            _ = try await build(in: store)
            try "FROM scratch\nCOPY tree /tree\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            let before = try listing(store.root)
            do {
                _ = try await build(in: store, push: push ? LayerPush(uploader: uploader, keepInStore: true) : nil)
                XCTFail("a walk past PATH_MAX succeeded")
            } catch {
                errors.append("\(error)")
            }
            await uploader.finishUploads()
            XCTAssertTrue(uploader.streamed.isEmpty && uploader.uploadedFiles.isEmpty, "nothing uploaded (push \(push))")
            XCTAssertEqual(try listing(store.root), before, "the store as it was (push \(push))")
        }
        XCTAssertEqual(errors.count, 2)
        XCTAssertEqual(errors.first, errors.last)
        let line = errors[0]
        XCTAssertTrue(line.contains("Dockerfile:2: COPY: cannot read \"tree/many/ddd") && line.hasSuffix("File name too long"),
                      String(line.prefix(200)))
        XCTAssertFalse(line.contains("\n"))
    }

    // MARK: helpers

    /// Builds the context's Dockerfile; returns the result and how many steps hit the cache.
    private func build(in store: ImageStore, push: LayerPush? = nil, tagged: Bool = true) async throws -> (BuildResult, Int) {
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var cached = 0
        }
        let counter = Counter()
        var options = BuildOptions(contextDirectory: context, tags: tagged ? [try Reference(parsing: "streamed.example/image:1")] : [],
                                   runMode: .record, sourceDateEpoch: 1_700_000_000)
        options.layerPush = push
        let result = try await ImageBuilder(store: store) { event in
            if case .cached = event { counter.lock.withLock { counter.cached += 1 } }
        }.build(options)
        return (result, counter.lock.withLock { counter.cached })
    }

    /// Every path below `root` with its size (directories as -1), sorted.
    private func listing(_ root: String) throws -> [String] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root) else { return [] }
        var paths: [String] = []
        while let path = walker.nextObject() as? String {
            let attributes = try fm.attributesOfItem(atPath: root + "/" + path)
            let isDirectory = (attributes[.type] as? FileAttributeType) == .typeDirectory
            paths.append("\(path) \(isDirectory ? -1 : (attributes[.size] as? Int ?? 0))")
        }
        return paths.sorted()
    }
}
