import Foundation
import ProcessWaiting
import ImageModel
import ImageStore
import Layers
import XCTest
@testable import ImageBuilder

/// Issue 12 item 8: a two-stage build run in-process — `ImageBuilder` itself, no swiftdock
/// binary, no registry — against a fake image source that serves a small base made here
/// (one gzip layer made by GNU tar, its config and manifest) and records what it was asked.
final class InProcessBuildTests: XCTestCase {
    static let dockerfile = """
        FROM fake.example/base:1 AS builder
        COPY a.txt /out/a.txt
        FROM fake.example/base:1
        COPY --from=builder /out/a.txt /app/
        COPY b.txt /app/

        """

    func testTwoStageBuildFromAFakeSource() async throws {
        let (base, source, store) = try prepare(corrupt: false)
        let tag = try Reference(parsing: "inprocess.example/two-stage:1")
        let result = try await build(tag, store: store, source: source)

        XCTAssertEqual(try store.resolve(tag)?.digest, result.manifest.digest)
        let image = try store.image(result.manifest)
        XCTAssertEqual(image.configDescriptor.digest, result.config.digest)
        // The base layer, then one layer per COPY of the final stage; the base reused by digest.
        XCTAssertEqual(image.manifest.layers.count, 3)
        XCTAssertEqual(image.manifest.layers.first?.digest, base.layer.digest)
        XCTAssertEqual(image.manifest.layers.first?.size, base.layer.size)
        XCTAssertEqual(image.config.rootfs.diffIDs.count, 3)
        XCTAssertEqual(image.config.rootfs.diffIDs.first, base.diffID)
        for (layer, diffID) in zip(image.manifest.layers, image.config.rootfs.diffIDs).dropFirst() {
            XCTAssertEqual(try SHA256Stream.digest(ofFile: store.blobPath(layer.digest)), layer.digest)
            XCTAssertEqual(try gunzippedDigest(store.blobPath(layer.digest)), diffID, "diff ID of \(layer.digest)")
        }
        let built = image.manifest.layers.dropFirst().map { LayerBlob(path: store.blobPath($0.digest), digest: $0.digest) }
        XCTAssertEqual(try LayerUnpacker.readFile("app/a.txt", fromBlobs: built), Array("stage one\n".utf8))
        XCTAssertEqual(try LayerUnpacker.readFile("app/b.txt", fromBlobs: built), Array("final stage\n".utf8))

        // Manifest and config through one `pull` (the second FROM finds the base in the
        // store); the base layer streamed once for its headers (the lower view of the first
        // COPY) and made local, verified, only because `COPY --from=builder` unpacks that
        // stage's whole tree; no downloads.
        let asked = source.asked
        XCTAssertEqual(asked, FakeImageSource.Asked(pulls: ["fake.example/base:1"], opened: [base.layer.digest],
                                                    madeLocal: [base.layer.digest], downloads: []))
        XCTAssertEqual(try SHA256Stream.digest(ofFile: store.blobPath(base.layer.digest)), base.layer.digest)
    }

    /// `build --push`: the uploader hears of the final stage's base layers as soon as its
    /// FROM is resolved — once, and not of the first stage's — so it can bring them over
    /// beside the build; the final stage's two new layers are streamed to it; config and
    /// manifest are handed to it once, before the store holds them or the new layers (the
    /// store's work, fsyncs included, goes on beside their upload), with the bytes the store
    /// then keeps.
    func testBuildPushHandsTheFinalBaseToTheUploaderBesideTheBuild() async throws {
        let (base, source, store) = try prepare(corrupt: false)
        let uploader = FakeUploader()
        let storedWhenSent = Locked<[Bool]>([])
        uploader.onImage = { image in
            let manifest = try? CanonicalJSON.decode(ImageManifest.self, from: Data(image.manifestBytes))
            let digests = [image.manifest.digest, image.config.digest] + (manifest?.layers.dropFirst().map(\.digest) ?? [])
            storedWhenSent.withLock { $0 = digests.map(store.hasBlob) }
        }
        let result = try await build(try Reference(parsing: "inprocess.example/pushed:1"), store: store, source: source,
                                     push: LayerPush(uploader: uploader, keepInStore: true))
        XCTAssertEqual(uploader.baseLayers, [[base.layer]])
        await uploader.finishUploads()  // the streams' ends, as the CLI awaits them before the push
        let image = try store.image(result.manifest)
        XCTAssertEqual(uploader.streamed.count, 2)
        // Two writes run at once, so in either order.
        XCTAssertEqual(Set(uploader.streamed.map(SHA256Stream.digest(of:))), Set(image.manifest.layers.dropFirst().map(\.digest)))
        XCTAssertEqual(uploader.images.map(\.manifest), [result.manifest])
        XCTAssertEqual(uploader.images.map(\.config), [result.config])
        XCTAssertEqual(uploader.images.first?.manifestBytes, try store.readBlob(result.manifest.digest))
        XCTAssertEqual(uploader.images.first?.configBytes, try store.readBlob(result.config.digest))
        XCTAssertEqual(storedWhenSent.withLock { $0 }, [false, false, false, false], "handed over before the store work")
    }

    /// Wrong bytes are caught on both ways a base layer is read: streamed for its headers
    /// (COPY into the base's tree) and made local for unpacking (COPY --from=<image>).
    func testALayerWhoseBytesDoNotMatchItsDigestFailsNamingIt() async throws {
        let cases: [(dockerfile: String?, opened: Int, madeLocal: Int)] = [
            (nil, 1, 0),
            ("FROM scratch\nCOPY --from=fake.example/base:1 /etc/base.txt /x\n", 0, 1),
        ]
        for c in cases {
            let (base, source, store) = try prepare(corrupt: true, dockerfile: c.dockerfile)
            let tag = try Reference(parsing: "inprocess.example/two-stage:bad")
            do {
                _ = try await build(tag, store: store, source: source)
                XCTFail("a build on a layer with wrong bytes succeeded: \(c.dockerfile ?? Self.dockerfile)")
            } catch {
                let line = "\(error)"
                XCTAssertTrue(line.contains("Dockerfile:2: COPY: "), line)
                XCTAssertTrue(line.contains("\(base.layer.digest)"), line)
                XCTAssertFalse(line.contains("\n"), line)
                // What and where: the image and its layer, never the temporary file the bytes went to.
                XCTAssertTrue(line.contains("image fake.example/base:1"), line)
                let message = line.components(separatedBy: "COPY: ").last ?? line
                XCTAssertFalse(message.contains(store.root) || message.contains(NSTemporaryDirectory()), line)
            }
            XCTAssertNil(try store.resolve(tag), "a failed build tags nothing")
            XCTAssertFalse(store.hasBlob(base.layer.digest), "wrong bytes never enter the store")
            XCTAssertEqual(source.asked, FakeImageSource.Asked(pulls: ["fake.example/base:1"],
                                                               opened: Array(repeating: base.layer.digest, count: c.opened),
                                                               madeLocal: Array(repeating: base.layer.digest, count: c.madeLocal)))
        }
    }

    /// A context with the Dockerfile (the two-stage one unless given), a.txt and b.txt, an empty store, and a fake source of
    /// the base; all in a temporary directory removed after the test.
    private func prepare(corrupt: Bool, dockerfile: String? = nil) throws -> (FakeBase, FakeImageSource, ImageStore) {
        let home = NSTemporaryDirectory() + "swiftdock-inprocess-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/context", withIntermediateDirectories: true)
        try (dockerfile ?? Self.dockerfile).write(toFile: home + "/context/Dockerfile", atomically: true, encoding: .utf8)
        try "stage one\n".write(toFile: home + "/context/a.txt", atomically: true, encoding: .utf8)
        try "final stage\n".write(toFile: home + "/context/b.txt", atomically: true, encoding: .utf8)
        let base = try FakeBase(in: home)
        let store = try ImageStore(root: home + "/store")
        return (base, FakeImageSource(base: base, store: store, corrupt: corrupt), store)
    }

    private func build(_ tag: Reference, store: ImageStore, source: FakeImageSource,
                       push: LayerPush? = nil) async throws -> BuildResult {
        let context = (store.root as NSString).deletingLastPathComponent + "/context"
        var options = BuildOptions(contextDirectory: context, tags: [tag], runMode: .record)
        options.layerPush = push
        return try await ImageBuilder(store: store, source: source).build(options)
    }

    private func gunzippedDigest(_ path: String) throws -> Digest {
        SHA256Stream.digest(of: try runTool("/bin/gzip", ["-dc", path]))
    }
}

/// Runs a tool and returns its standard output; fails on a non-zero exit.
private func runTool(_ tool: String, _ arguments: [String], in directory: String? = nil) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    process.standardOutput = output
    let exit = try ProcessExit.start(process)
    let bytes = output.fileHandleForReading.readDataToEndOfFile()
    exit.wait()
    guard process.terminationStatus == 0 else { throw BuildError("\(tool) \(arguments) exited \(process.terminationStatus)") }
    return Array(bytes)
}

/// A one-layer base image in memory: `etc/` with `etc/base.txt`, a tarball GNU tar makes and
/// gzip compresses, its config (diff ID = the uncompressed digest) and an OCI manifest.
private struct FakeBase {
    let layerBytes: [UInt8]
    let layer: Descriptor
    let diffID: Digest
    let configBytes: [UInt8]
    let manifestBytes: [UInt8]
    let manifest: Descriptor

    init(in home: String) throws {
        let tree = home + "/base-tree"
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try "from the base\n".write(toFile: tree + "/etc/base.txt", atomically: true, encoding: .utf8)
        let tar = try runTool("/bin/tar", ["--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "etc"], in: tree)
        try Data(tar).write(to: URL(fileURLWithPath: home + "/base.tar"))
        layerBytes = try runTool("/bin/gzip", ["-nc", home + "/base.tar"])
        diffID = SHA256Stream.digest(of: tar)
        layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: SHA256Stream.digest(of: layerBytes), size: Int64(layerBytes.count))
        let config = ImageConfiguration(platform: Platform.host, rootfs: RootFS(diffIDs: [diffID]))
        configBytes = Array(try CanonicalJSON.encode(config))
        let configDescriptor = Descriptor(mediaType: MediaType.ociConfig, digest: SHA256Stream.digest(of: configBytes),
                                          size: Int64(configBytes.count))
        manifestBytes = Array(try CanonicalJSON.encode(ImageManifest(mediaType: MediaType.ociManifest, config: configDescriptor,
                                                                     layers: [layer])))
        manifest = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256Stream.digest(of: manifestBytes),
                              size: Int64(manifestBytes.count), platform: config.platform)
    }
}

/// Serves `FakeBase` as a registry-backed source would: `pull` stores manifest and config and
/// records the layer as remote; `openBlob` streams the layer, throwing at its end when the
/// bytes do not hash to the digest (as the registry client's verified stream does);
/// `ensureLocal` ingests with verification. With `corrupt`, the layer's last byte is flipped.
private final class FakeImageSource: ImageSource, @unchecked Sendable {
    struct Asked: Equatable {
        var pulls: [String] = []
        var opened: [Digest] = []
        var madeLocal: [Digest] = []
        var downloads: [String] = []
    }

    let base: FakeBase
    let served: [UInt8]
    let store: ImageStore
    // Guards `record`: the builder may ask concurrently.
    private let lock = NSLock()
    private var record = Asked()
    var asked: Asked { lock.withLock { record } }

    init(base: FakeBase, store: ImageStore, corrupt: Bool) {
        self.base = base
        self.store = store
        var bytes = base.layerBytes
        if corrupt { bytes[bytes.count - 1] ^= 0xff }
        served = bytes
    }

    func pull(_ reference: Reference, platform: Platform?) async throws -> Descriptor {
        lock.withLock { record.pulls.append(reference.description) }
        guard reference.domain == "fake.example", reference.path == "base" else {
            throw BuildError("fake source: no image \(reference)")
        }
        try store.writeBlob(base.configBytes)
        try store.recordRemoteSource(RemoteSource(reference), for: [base.layer.digest])
        try store.writeBlob(base.manifestBytes)
        _ = try store.tag(reference, manifest: base.manifest)
        return base.manifest
    }

    func ensureLocal(_ digests: [Digest]) async throws {
        lock.withLock { record.madeLocal += digests }
        for digest in digests where !store.hasBlob(digest) {
            guard digest == base.layer.digest else { throw StoreError.blobNotFound(digest) }
            let temporary = try store.makeTemporaryFile()
            try Data(served).write(to: URL(fileURLWithPath: temporary))
            try store.ingest(temporaryFile: temporary, digest: digest, verify: true)
        }
    }

    func openBlob(_ digest: Digest) async throws -> ContentChunks {
        lock.withLock { record.opened.append(digest) }
        guard digest == base.layer.digest else { throw StoreError.blobNotFound(digest) }
        let bytes = served
        return ContentChunks { continuation in
            let half = bytes.count / 2
            continuation.yield(Array(bytes[..<half]))
            let actual = SHA256Stream.digest(of: bytes)
            guard actual == digest else {
                continuation.finish(throwing: ContentError.digestMismatch(digest, actual: actual))
                return
            }
            continuation.yield(Array(bytes[half...]))
            continuation.finish()
        }
    }

    func download(_ url: String, to path: String) async throws -> Date? {
        lock.withLock { record.downloads.append(url) }
        throw BuildError("fake source: no downloads (asked for \(url))")
    }
}
