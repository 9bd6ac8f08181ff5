import Foundation
import ProcessWaiting
import ImageModel
@testable import ImageStore
import Layers
import XCTest

/// Tags, resolution, listing and removal with garbage collection.
final class TagTests: StoreTestCase {
    func testTagResolveAndList() throws {
        let app = try makeLayer(store, files: ["app/main.py": "print('hi')\n"], scratch: scratch)
        let manifest = try makeImage(store, layers: [base, app], cmd: ["python3", "main.py"])
        XCTAssertNil(try store.tag(ref("python-docker"), manifest: manifest))
        try store.tag(ref("localhost:5000/team/app:v1"), manifest: manifest)

        // index.json records the full reference.
        let index = try store.readIndex()
        XCTAssertEqual(index.manifests.map { $0.annotations?[ImageStore.refNameAnnotation] },
                       ["docker.io/library/python-docker:latest", "localhost:5000/team/app:v1"])

        let cases: [(String, Descriptor?)] = [
            ("python-docker", manifest),
            ("python-docker:latest", manifest),
            ("docker.io/library/python-docker:latest", manifest),
            ("python-docker@\(manifest.digest)", manifest),
            ("localhost:5000/team/app:v1", manifest),
            ("localhost:5000/team/app", nil),
            ("python-docker:other", nil),
            ("other@\(manifest.digest)", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try store.resolve(ref(text))?.digest, expected?.digest, text)
        }

        let stored = try store.image(manifest)
        XCTAssertEqual(stored.config.config.cmd, ["python3", "main.py"])
        XCTAssertEqual(stored.manifest.layers.map(\.digest), [base.descriptor.digest, app.descriptor.digest])
        XCTAssertEqual(stored.config.rootfs.diffIDs, [base.diffID, app.diffID])

        let list = try store.listImages()
        XCTAssertEqual(list.count, 2)
        let summary = try XCTUnwrap(list.first { $0.reference == ref("python-docker") })
        XCTAssertEqual(summary.imageID, stored.configDescriptor.digest)
        XCTAssertEqual(summary.size, stored.configDescriptor.size + base.descriptor.size + app.descriptor.size)
        XCTAssertEqual(summary.created, Timestamp.parse("2026-01-02T03:04:05Z"))
        XCTAssertEqual(summary.manifestDescriptor.digest, manifest.digest)
    }

    func testAnImagePulledByDigestIsRecordedUnderItsDigest() throws {
        let manifest = try makeImage(store, layers: [base], cmd: ["sh"])
        let byDigest = ref("localhost:5000/team/app@\(manifest.digest)")
        try store.tag(byDigest, manifest: manifest)
        XCTAssertEqual(try store.readIndex().manifests.map { $0.annotations?[ImageStore.refNameAnnotation] },
                       ["localhost:5000/team/app@\(manifest.digest)"])
        XCTAssertEqual(try store.resolve(byDigest)?.digest, manifest.digest)
        XCTAssertNil(try store.resolve(ref("localhost:5000/team/app")), "no tag was made")
        let listed = try XCTUnwrap(store.listImages().first)
        XCTAssertNil(listed.reference?.tag, "listed with tag <none>")
        XCTAssertEqual(listed.reference?.digest, manifest.digest)

        // A digest that names another manifest is refused; nothing is recorded.
        let other = try makeImage(store, layers: [base], cmd: ["other"])
        XCTAssertThrowsError(try store.tag(ref("localhost:5000/team/app@\(other.digest)"), manifest: manifest))
        XCTAssertEqual(try store.readIndex().manifests.count, 1)

        // The digest of a stored index that lists the manifest names it too (a multi-platform pull).
        var child = manifest
        child.platform = Platform(os: "linux", architecture: "amd64")
        let index = try store.writeJSON(ImageIndex(mediaType: MediaType.ociIndex, manifests: [child]), mediaType: MediaType.ociIndex)
        let byIndex = ref("localhost:5000/team/multi@\(index.digest)")
        try store.tag(byIndex, manifest: manifest)
        XCTAssertEqual(try store.resolve(byIndex)?.digest, manifest.digest)

        XCTAssertFalse(try store.untag(byDigest).lines.isEmpty)
        XCTAssertNil(try store.resolve(byDigest))
        XCTAssertEqual(try store.resolve(byIndex)?.digest, manifest.digest, "the other name keeps the image")
    }

    func testRetagReplacesAndListsNewestFirst() throws {
        let old = try makeImage(store, layers: [base], cmd: ["old"], created: "2025-01-01T00:00:00Z")
        let new = try makeImage(store, layers: [base], cmd: ["new"], created: "2026-06-01T00:00:00Z")
        try store.tag(ref("app"), manifest: old)
        try store.tag(ref("app:old"), manifest: old)
        let previous = try store.tag(ref("app"), manifest: new)
        XCTAssertEqual(previous?.digest, old.digest)
        XCTAssertEqual(try store.resolve(ref("app"))?.digest, new.digest)
        XCTAssertEqual(try store.readIndex().manifests.count, 2, "one entry per tag")
        XCTAssertEqual(try store.listImages().map(\.reference?.familiarDescription), ["app:latest", "app:old"])
    }

    func testTagRequiresStoredBlobsAndANameThatFits() throws {
        let missingLayer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: SHA256Stream.digest(of: [1, 2, 3]), size: 3)
        let broken = TestLayer(descriptor: missingLayer, diffID: SHA256Stream.digest(of: [4]))
        let manifest = try makeImage(store, layers: [base, broken])
        assertStoreError(try store.tag(ref("broken"), manifest: manifest)) { $0 == .blobNotFound(missingLayer.digest) }
        let good = try makeImage(store, layers: [base])
        let other = try makeImage(store, layers: [base], cmd: ["other"])
        assertStoreError(try store.tag(ref("x@\(other.digest)"), manifest: good)) {
            if case .invalidReference = $0 { return true } else { return false }
        }
        let config = try store.writeJSON(["a": 1], mediaType: MediaType.ociConfig)
        assertStoreError(try store.tag(ref("cfg"), manifest: config)) {
            if case .unsupportedMediaType = $0 { return true } else { return false }
        }
        XCTAssertEqual(try store.tags().count, 0)
    }

    func testResolveByImageIDPrefix() throws {
        let one = try makeImage(store, layers: [base], cmd: ["one"])
        let two = try makeImage(store, layers: [base], cmd: ["two"])
        try store.tag(ref("one"), manifest: one)
        try store.tag(ref("one:again"), manifest: one)
        try store.tag(ref("two"), manifest: two)
        let id1 = try store.image(one).imageID, id2 = try store.image(two).imageID
        // Shortest prefix that tells them apart.
        var length = 1
        while id1.encoded.prefix(length) == id2.encoded.prefix(length) { length += 1 }

        XCTAssertEqual(try store.resolve(imageIDPrefix: String(id1.encoded.prefix(length)))?.digest, one.digest)
        XCTAssertEqual(try store.resolve(imageIDPrefix: id2.shortID)?.digest, two.digest)
        XCTAssertEqual(try store.resolve(imageIDPrefix: id2.description)?.digest, two.digest, "with sha256:")
        XCTAssertEqual(try store.resolve(imageIDPrefix: id1.encoded.uppercased())?.digest, one.digest)
        XCTAssertNil(try store.resolve(imageIDPrefix: "not-hex"))
        XCTAssertNil(try store.resolve(imageIDPrefix: ""))
        let absent = "0123456789abcdef".first { $0 != id1.encoded.first && $0 != id2.encoded.first }!
        XCTAssertNil(try store.resolve(imageIDPrefix: String(absent)))
        if length > 1 {
            assertStoreError(try store.resolve(imageIDPrefix: String(id1.encoded.prefix(length - 1)))) {
                $0 == .ambiguousImageID(prefix: String(id1.encoded.prefix(length - 1)), count: 2)
            }
        }
    }

    func testUntagDeletesOnlyUnsharedBlobs() throws {
        let a = try makeLayer(store, files: ["a.txt": "a"], scratch: scratch)
        let b = try makeLayer(store, files: ["b.txt": "b"], scratch: scratch)
        let imageA = try makeImage(store, layers: [base, a], cmd: ["a"])
        let imageB = try makeImage(store, layers: [base, b], cmd: ["b"])
        try store.tag(ref("a"), manifest: imageA)
        try store.tag(ref("a:second"), manifest: imageA)
        try store.tag(ref("b"), manifest: imageB)
        let configA = try store.image(imageA).configDescriptor.digest
        // A blob from a build that has not tagged yet must survive every untag.
        let pending = try store.writeBlob(Array("pending build".utf8))

        // Still tagged elsewhere: only the tag goes.
        var result = try store.untag(ref("a"))
        XCTAssertEqual(result.lines, ["Untagged: a:latest"])
        XCTAssertEqual(result.deletedBlobs, [])
        XCTAssertTrue(store.hasBlob(imageA.digest))

        result = try store.untag(ref("a:second"))
        XCTAssertEqual(result.untagged, [ref("a:second")])
        XCTAssertEqual(result.deletedImageID, configA)
        XCTAssertEqual(result.deletedLayers, [a.descriptor.digest])
        XCTAssertEqual(Set(result.deletedBlobs), [imageA.digest, configA, a.descriptor.digest])
        XCTAssertEqual(result.lines, ["Untagged: a:second", "Deleted: \(configA)", "Deleted: \(a.descriptor.digest)"])
        for digest in [imageA.digest, configA, a.descriptor.digest] { XCTAssertFalse(store.hasBlob(digest)) }
        for digest in [base.descriptor.digest, b.descriptor.digest, imageB.digest, pending] { XCTAssertTrue(store.hasBlob(digest)) }
        XCTAssertNil(try store.resolve(ref("a:second")))
        XCTAssertEqual(try store.listImages().map(\.reference), [ref("b")])

        // By digest: every tag of that repository at that manifest.
        try store.tag(ref("b:v2"), manifest: imageB)
        result = try store.untag(ref("b@\(imageB.digest)"))
        XCTAssertEqual(Set(result.untagged), [ref("b"), ref("b:v2")])
        XCTAssertTrue(result.deletedLayers.contains(base.descriptor.digest))
        XCTAssertEqual(try store.tags().count, 0)
        XCTAssertTrue(store.hasBlob(pending))

        assertStoreError(try store.untag(ref("b"))) { $0 == .imageNotFound("b:latest") }
        // The pending blob is only collected by prune once it is old enough.
        XCTAssertEqual(try store.prune(gracePeriod: 3600), [])
        XCTAssertEqual(try store.prune(gracePeriod: -1), [pending])
    }

    func testTaggedIndexResolvesToHostManifestAndIsCollected() throws {
        var host = try makeImage(store, layers: [base], cmd: ["host"])
        host.platform = .host
        var other = try makeImage(store, layers: [base], cmd: ["other"])
        other.platform = Platform(os: "linux", architecture: "riscv64")
        let index = try store.writeJSON(ImageIndex(mediaType: MediaType.ociIndex, manifests: [other, host]), mediaType: MediaType.ociIndex)
        try store.tag(ref("multi"), manifest: index)

        let stored = try store.image(XCTUnwrap(try store.resolve(ref("multi"))))
        XCTAssertEqual(stored.config.config.cmd, ["host"])
        XCTAssertEqual(try store.listImages().map(\.manifestDescriptor.digest), [index.digest])

        let result = try store.untag(ref("multi"))
        XCTAssertEqual(result.deletedImageID, stored.imageID)
        for digest in [index.digest, host.digest, other.digest, base.descriptor.digest] { XCTAssertFalse(store.hasBlob(digest)) }
        XCTAssertEqual(try FileSystem.list(store.root + "/tmp"), [], "index rewrites leave no temporary file")
    }

    func testUnknownImage() throws {
        XCTAssertNil(try store.resolve(ref("nothing")))
        assertStoreError(try store.untag(ref("nothing:here"))) { $0 == .imageNotFound("nothing:here") }
        assertStoreError(try store.save([ref("nothing")], format: .docker, to: scratch + "/out.tar")) { $0 == .imageNotFound("nothing:latest") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out.tar"))
    }

    /// Two store instances on two threads tag concurrently: no tag is lost, index.json stays valid.
    func testConcurrentTaggingFromTwoInstances() throws {
        let manifest = try makeImage(store, layers: [base])
        let root = store.root
        let count = 40
        let errors = ErrorBox()
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            do {
                let mine = try ImageStore(root: root)
                for i in 0..<count { try mine.tag(ref("w\(writer)/img:t\(i)"), manifest: manifest) }
            } catch {
                errors.add(error)
            }
        }
        XCTAssertEqual(errors.all.map { "\($0)" }, [])
        XCTAssertEqual(try store.tags().count, 2 * count)
    }

    /// Two processes tag concurrently. The test binary re-runs itself as the second process
    /// (the child test below does the work only when SWIFTDOCK_STORE_CHILD is set).
    func testConcurrentTaggingFromTwoProcesses() throws {
        let manifest = try makeImage(store, layers: [base])
        let executable = ProcessInfo.processInfo.arguments[0]
        guard executable.hasSuffix(".xctest") else { throw XCTSkip("test binary \(executable) cannot be re-run as a child") }
        let count = 40
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = ["ImageStoreTests.TagTests/testChildTagger"]
        child.environment = ProcessInfo.processInfo.environment.merging([
            "SWIFTDOCK_STORE_CHILD": store.root, "SWIFTDOCK_STORE_MANIFEST": manifest.digest.description,
            "SWIFTDOCK_STORE_COUNT": "\(count)",
        ]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        let childExit = try ProcessExit.start(child)
        let mine = try ImageStore(root: store.root)
        for i in 0..<count { try mine.tag(ref("parent/img:t\(i)"), manifest: manifest) }
        childExit.wait()
        XCTAssertEqual(child.terminationStatus, 0)
        let tags = try store.tags().map(\.reference.familiarRepository)
        XCTAssertEqual(tags.filter { $0 == "parent/img" }.count, count)
        XCTAssertEqual(tags.filter { $0 == "child/img" }.count, count)
    }

    func testChildTagger() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let root = environment["SWIFTDOCK_STORE_CHILD"], let digest = environment["SWIFTDOCK_STORE_MANIFEST"],
              let count = environment["SWIFTDOCK_STORE_COUNT"].flatMap(Int.init) else { return }
        let child = try ImageStore(root: root)
        let manifest = Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: digest),
                                  size: Int64(try child.readBlob(try Digest(parsing: digest)).count))
        for i in 0..<count { try child.tag(ref("child/img:t\(i)"), manifest: manifest) }
    }
}

/// Errors collected from concurrent workers; `@unchecked Sendable` is safe: every access holds `lock`.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ error: Error) { lock.lock(); errors.append(error); lock.unlock() }
    var all: [Error] { lock.lock(); defer { lock.unlock() }; return errors }
}
