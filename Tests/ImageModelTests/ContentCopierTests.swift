import Foundation
@testable import ImageModel
import XCTest

/// `ContentCopier` without a registry or a disk: an in-memory source and a destination that
/// misbehaves on purpose (refuses mounts, fails once, truncates, is handed corrupt bytes).
final class ContentCopierTests: XCTestCase {
    /// What the fake destination does wrong.
    struct Misbehaviour: OptionSet, Sendable {
        let rawValue: Int
        static let refusesMounts = Misbehaviour(rawValue: 1)
        /// Each blob's first upload fails (a 5xx), the next one works.
        static let failsFirstPut = Misbehaviour(rawValue: 2)
        /// Every upload of more than 1 MiB loses its last byte (a layer, not the config).
        static let truncatesEveryPut = Misbehaviour(rawValue: 4)
    }

    struct Case {
        var name: String
        var misbehaviour: Misbehaviour
        var mountable: Bool
        var corruptLayer: Bool
        /// How the layer got there, or the error expected.
        var expected: Result<BlobCopyOutcome, ContentError>
    }

    func testCopierAgainstMisbehavingDestinations() async throws {
        let image = TestImage()
        let layer = image.layer.digest
        let cases: [Case] = [
            Case(name: "plain", misbehaviour: [], mountable: false, corruptLayer: false, expected: .success(.copied(attempts: 1))),
            Case(name: "mounts", misbehaviour: [], mountable: true, corruptLayer: false,
                 expected: .success(.mounted(from: "r.example/base"))),
            Case(name: "refuses mounts", misbehaviour: .refusesMounts, mountable: true, corruptLayer: false,
                 expected: .success(.copied(attempts: 1))),
            Case(name: "5xx once", misbehaviour: .failsFirstPut, mountable: false, corruptLayer: false,
                 expected: .success(.copied(attempts: 2))),
            Case(name: "truncates", misbehaviour: .truncatesEveryPut, mountable: false, corruptLayer: false,
                 expected: .failure(.incomplete(layer, expected: image.layer.size, stored: image.layer.size - 1))),
            Case(name: "corrupt source", misbehaviour: [], mountable: false, corruptLayer: true,
                 expected: .failure(.digestMismatch(layer, actual: SHA256Stream.digest(of: image.corruptLayerBytes)))),
        ]
        for c in cases {
            let source = MemorySource(blobs: image.blobs(corruptLayer: c.corruptLayer),
                                      origins: c.mountable ? [layer: ["r.example/base"]] : [:])
            let destination = MemoryDestination(misbehaviour: c.misbehaviour, mountable: source.blobs)
            do {
                let outcomes = try await ContentCopier(attempts: 2, jobs: 2).copy(image.manifest, from: source, to: destination, tag: "v1")
                guard case .success(let outcome) = c.expected else { XCTFail("\(c.name): copied"); continue }
                XCTAssertEqual(outcomes[layer], outcome, c.name)
                XCTAssertEqual(destination.tags["v1"], image.manifest.digest, c.name)
                XCTAssertEqual(destination.stored[image.manifest.digest], image.manifestBytes, c.name)
            } catch let error as ContentError {
                XCTAssertEqual(c.expected, .failure(error), c.name)
                XCTAssertNil(destination.tags["v1"], "\(c.name): no manifest after a failed blob")
                if c.corruptLayer { XCTAssertNil(destination.stored[layer], "\(c.name): corrupt bytes are not committed") }
            }
        }
    }
}

/// A one-layer image held in memory.
struct TestImage {
    let layerBytes = Array(repeating: UInt8(7), count: 3 << 20)
    var corruptLayerBytes: [UInt8] { var bytes = layerBytes; bytes[1000] = 8; return bytes }
    let layer: Descriptor
    let config: Descriptor
    let configBytes = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
    let manifest: Descriptor
    let manifestBytes: [UInt8]

    init() {
        layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: SHA256Stream.digest(of: layerBytes), size: Int64(layerBytes.count))
        config = Descriptor(mediaType: MediaType.ociConfig, digest: SHA256Stream.digest(of: configBytes), size: Int64(configBytes.count))
        manifestBytes = Array(try! CanonicalJSON.encode(ImageManifest(mediaType: MediaType.ociManifest, config: config, layers: [layer])))
        manifest = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256Stream.digest(of: manifestBytes), size: Int64(manifestBytes.count))
    }

    func blobs(corruptLayer: Bool) -> [Digest: [UInt8]] {
        [layer.digest: corruptLayer ? corruptLayerBytes : layerBytes, config.digest: configBytes, manifest.digest: manifestBytes]
    }
}

struct MemorySource: ContentSource {
    let blobs: [Digest: [UInt8]]
    let origins: [Digest: [String]]

    func read(_ descriptor: Descriptor) async throws -> [UInt8] {
        guard let bytes = blobs[descriptor.digest] else { throw ContentError.notFound(descriptor.digest) }
        return bytes
    }

    func open(_ descriptor: Descriptor) async throws -> ContentChunks {
        let bytes = try await read(descriptor)
        return ContentChunks { continuation in
            for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
                continuation.yield(Array(bytes[start..<min(start + (1 << 20), bytes.count)]))
            }
            continuation.finish()
        }
    }

    func mountOrigins(of descriptor: Descriptor) async throws -> [String] { origins[descriptor.digest] ?? [] }
}

/// Commits a blob only when its stream ended cleanly, as a registry finishes an upload only
/// when the body arrived whole. `@unchecked Sendable` is safe: the mutable dictionaries are
/// reached only while `lock` is held; the rest is immutable.
final class MemoryDestination: ContentDestination, @unchecked Sendable {
    struct Refused: Error {}
    let misbehaviour: ContentCopierTests.Misbehaviour
    /// What a mount can take from (the source registry's content).
    let mountable: [Digest: [UInt8]]
    private let lock = NSLock()
    private var blobs: [Digest: [UInt8]] = [:]
    private var manifestTags: [String: Digest] = [:]
    private var puts: [Digest: Int] = [:]

    init(misbehaviour: ContentCopierTests.Misbehaviour, mountable: [Digest: [UInt8]]) {
        self.misbehaviour = misbehaviour
        self.mountable = mountable
    }

    var stored: [Digest: [UInt8]] { lock.withLock { blobs } }
    var tags: [String: Digest] { lock.withLock { manifestTags } }

    func blobSize(_ descriptor: Descriptor) async throws -> Int64? {
        lock.withLock { blobs[descriptor.digest].map { Int64($0.count) } }
    }

    func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool {
        guard !misbehaviour.contains(.refusesMounts), let bytes = mountable[descriptor.digest] else { return false }
        lock.withLock { blobs[descriptor.digest] = bytes }
        return true
    }

    func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws {
        let attempt = lock.withLock { puts[descriptor.digest, default: 0] += 1; return puts[descriptor.digest]! }
        var received: [UInt8] = []
        for try await chunk in chunks { received += chunk }
        if misbehaviour.contains(.failsFirstPut), attempt == 1 { throw Refused() }
        if misbehaviour.contains(.truncatesEveryPut), received.count > 1 << 20 { received.removeLast() }
        lock.withLock { blobs[descriptor.digest] = received }
    }

    func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws {
        lock.withLock {
            blobs[descriptor.digest] = bytes
            if let tag { manifestTags[tag] = descriptor.digest }
        }
    }
}
