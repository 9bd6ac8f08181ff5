import Foundation
@testable import ImageModel
import XCTest

/// `ImagePusher` without a registry or a disk (issue 12 item 8): an in-memory source and a
/// destination that misbehaves on purpose — refuses mounts, claims a mount it did not make,
/// answers a 5xx once or always, refuses for good, truncates once or always — or is handed
/// corrupt bytes. Each case says how the layer must get there (and in how many uploads), or
/// which error must end the push with no manifest put.
final class ImagePusherTests: XCTestCase {
    /// What the fake destination does wrong.
    struct Misbehaviour: OptionSet, Sendable {
        let rawValue: Int
        static let refusesMounts = Misbehaviour(rawValue: 1)
        /// Each blob's first upload fails with a 5xx, the next one works.
        static let failsFirstPut = Misbehaviour(rawValue: 2)
        /// Every upload of more than 1 MiB loses its last byte (a layer, not the config).
        static let truncatesEveryPut = Misbehaviour(rawValue: 4)
        /// The first upload of more than 1 MiB loses its last byte.
        static let truncatesFirstPut = Misbehaviour(rawValue: 8)
        /// Every upload fails with a 5xx.
        static let failsEveryPut = Misbehaviour(rawValue: 16)
        /// Every upload is refused for good (a 403: not worth another try).
        static let deniesPuts = Misbehaviour(rawValue: 32)
        /// Says a mount worked but keeps nothing.
        static let mountsNothing = Misbehaviour(rawValue: 64)
        /// Holds the layer already.
        static let hasLayer = Misbehaviour(rawValue: 128)
    }

    enum Expected: Equatable {
        /// How the layer got there, and how many uploads of it the destination saw.
        case outcome(BlobPushOutcome, puts: Int)
        case contentError(ContentError, puts: Int)
        case refused(retryable: Bool, puts: Int)
    }

    struct Case {
        var name: String
        var misbehaviour: Misbehaviour = []
        var mountable = false
        var corruptLayer = false
        var expected: Expected
    }

    func testPusherAgainstMisbehavingDestinations() async throws {
        let image = TestImage()
        let layer = image.layer.digest
        let truncated = ContentError.incomplete(layer, expected: image.layer.size, stored: image.layer.size - 1)
        let cases: [Case] = [
            Case(name: "plain", expected: .outcome(.pushed(attempts: 1), puts: 1)),
            Case(name: "already there", misbehaviour: .hasLayer, expected: .outcome(.alreadyExists, puts: 0)),
            Case(name: "mounts", mountable: true, expected: .outcome(.mounted(from: "base"), puts: 0)),
            Case(name: "refuses mounts", misbehaviour: .refusesMounts, mountable: true, expected: .outcome(.pushed(attempts: 1), puts: 1)),
            Case(name: "claims a mount it did not make", misbehaviour: .mountsNothing, mountable: true,
                 expected: .outcome(.pushed(attempts: 1), puts: 1)),
            Case(name: "5xx once", misbehaviour: .failsFirstPut, expected: .outcome(.pushed(attempts: 2), puts: 2)),
            Case(name: "5xx always", misbehaviour: .failsEveryPut, expected: .refused(retryable: true, puts: 2)),
            Case(name: "denied", misbehaviour: .deniesPuts, expected: .refused(retryable: false, puts: 1)),
            Case(name: "truncates once", misbehaviour: .truncatesFirstPut, expected: .outcome(.pushed(attempts: 2), puts: 2)),
            Case(name: "truncates always", misbehaviour: .truncatesEveryPut, expected: .contentError(truncated, puts: 2)),
            Case(name: "corrupt source", corruptLayer: true,
                 expected: .contentError(.digestMismatch(layer, actual: SHA256Stream.digest(of: image.corruptLayerBytes)), puts: 1)),
        ]
        for c in cases {
            let source = MemorySource(blobs: image.blobs(corruptLayer: c.corruptLayer),
                                      origins: c.mountable ? [layer: ["r.example/base"]] : [:])
            let destination = MemoryDestination(misbehaviour: c.misbehaviour, mountable: source.blobs)
            if c.misbehaviour.contains(.hasLayer) { destination.preload(layer, image.layerBytes) }
            let events = EventLog()
            do {
                let pushed = try await ImagePusher(jobs: 2, attempts: 2, backoff: .zero, onEvent: events.record)
                    .push(image.manifest, from: source, to: destination, tag: "v1")
                XCTAssertEqual(Expected.outcome(try XCTUnwrap(pushed.blobs[layer]), puts: destination.puts(of: layer)), c.expected, c.name)
                XCTAssertEqual(pushed.blobs[image.config.digest], c.misbehaviour.contains(.failsFirstPut) ? .pushed(attempts: 2) : .pushed(attempts: 1), c.name)
                XCTAssertEqual(destination.tags["v1"], image.manifest.digest, c.name)
                XCTAssertEqual(destination.stored[image.manifest.digest], image.manifestBytes, c.name)
                XCTAssertEqual(destination.stored[layer], image.layerBytes, c.name)
                XCTAssertEqual(pushed.summary, "v1: digest: \(image.manifest.digest) size: \(image.manifest.size)")
                // Docker's progress: the layer is prepared first and ends as the outcome says.
                let states = events.states(of: layer)
                XCTAssertEqual(states.first, .preparing, c.name)
                switch pushed.blobs[layer] {
                case .pushed?:
                    XCTAssertEqual(states.last, .pushed, c.name)
                    XCTAssertTrue(states.contains(.pushing(completed: image.layer.size, total: image.layer.size)), "\(c.name): \(states)")
                case .mounted(let from)?: XCTAssertEqual(states.last, .mounted(from: from), c.name)
                case .alreadyExists?: XCTAssertEqual(states.last, .alreadyExists, c.name)
                case nil: XCTFail(c.name)
                }
            } catch let error as ContentError {
                XCTAssertEqual(Expected.contentError(error, puts: destination.puts(of: layer)), c.expected, c.name)
                XCTAssertNil(destination.tags["v1"], "\(c.name): no manifest after a failed blob")
                if c.corruptLayer { XCTAssertNil(destination.stored[layer], "\(c.name): corrupt bytes are not committed") }
            } catch let error as MemoryDestination.Refused {
                XCTAssertEqual(Expected.refused(retryable: error.isRetryable, puts: destination.puts(of: layer)), c.expected, c.name)
                XCTAssertNil(destination.tags["v1"], "\(c.name): no manifest after a failed blob")
            }
        }
    }

    /// A layer this command already brought over (`build --push` streamed it while building,
    /// or mounted or copied a base layer beside the build) is reported as what happened to it —
    /// `Pushed` for an upload, as docker reports a layer its own push sent, not `Layer already
    /// exists` — and not asked for again; a blob not settled is checked as ever.
    func testSettledBlobsAreReportedAsSettledWithoutAnotherQuestion() async throws {
        let cases: [(BlobPushOutcome, TransferState)] = [
            (.pushed(attempts: 1), .pushed),
            (.mounted(from: "team/base"), .mounted(from: "team/base")),
            (.alreadyExists, .alreadyExists),
        ]
        for (outcome, state) in cases {
            let image = TestImage()
            let layer = image.layer.digest
            let destination = MemoryDestination(misbehaviour: [], mountable: [:])
            destination.preload(layer, image.layerBytes)
            let events = EventLog()
            var pusher = ImagePusher(backoff: .zero, onEvent: events.record)
            pusher.settled = [layer: outcome]
            let pushed = try await pusher.push(image.manifest, from: MemorySource(blobs: image.blobs(corruptLayer: false), origins: [:]),
                                               to: destination, tag: "v1")
            XCTAssertEqual(pushed.blobs[layer], outcome)
            XCTAssertEqual(events.states(of: layer), [.preparing, state])
            XCTAssertEqual(destination.puts(of: layer), 0)
            XCTAssertEqual(destination.sizeQueries(of: layer), 0, "\(outcome)")
            XCTAssertEqual(destination.puts(of: image.config.digest), 1)
            XCTAssertEqual(destination.tags["v1"], image.manifest.digest)
            // Without it, the same destination says the layer was there already.
            let again = try await ImagePusher(backoff: .zero).push(image.manifest, from: MemorySource(blobs: image.blobs(corruptLayer: false), origins: [:]),
                                                                    to: destination, tag: "v2")
            XCTAssertEqual(again.blobs[layer], .alreadyExists)
        }
    }

    /// `build --push` puts its manifest as soon as every blob it names is settled, beside the
    /// build's commit: never while one is not (a stream that failed, a config not confirmed),
    /// never with bytes that are not the descriptor's, and the push after the build then
    /// reports the image without putting the manifest again.
    func testManifestIsPutEarlyOnlyWhenEveryBlobIsSettled() async throws {
        let image = TestImage()
        let source = MemorySource(blobs: image.blobs(corruptLayer: false), origins: [:])
        var wrongSize = image.manifest
        wrongSize.size += 1
        let cases: [(name: String, settled: [Digest], descriptor: Descriptor, put: Bool?)] = [
            ("every blob settled", [image.layer.digest, image.config.digest], image.manifest, true),
            ("the layer's stream failed", [image.config.digest], image.manifest, false),
            ("the config is not confirmed", [image.layer.digest], image.manifest, false),
            ("nothing settled", [], image.manifest, false),
            ("bytes that are not the descriptor's", [image.layer.digest, image.config.digest], wrongSize, nil),
        ]
        for c in cases {
            let destination = MemoryDestination(misbehaviour: [], mountable: [:])
            var pusher = ImagePusher(backoff: .zero)
            pusher.settled = Dictionary(uniqueKeysWithValues: c.settled.map { ($0, BlobPushOutcome.pushed(attempts: 1)) })
            for digest in c.settled { destination.preload(digest, image.blobs(corruptLayer: false)[digest] ?? []) }
            let put = try? await pusher.putManifestIfSettled(image.manifestBytes, as: c.descriptor, to: destination, tag: "v1")
            XCTAssertEqual(put, c.put, c.name)
            XCTAssertEqual(destination.manifestOrder, c.put == true ? [image.manifest.digest] : [], c.name)
            guard c.put != nil else { continue }
            // The push after the build: whatever was not settled goes now, the manifest once.
            pusher.placedManifest = c.put == true ? image.manifest.digest : nil
            let pushed = try await pusher.push(image.manifest, from: source, to: destination, tag: "v1")
            XCTAssertEqual(pushed.digest, image.manifest.digest, c.name)
            XCTAssertEqual(destination.manifestOrder, [image.manifest.digest], c.name)
            XCTAssertEqual(destination.tags, ["v1": image.manifest.digest], c.name)
            XCTAssertEqual(destination.stored[image.layer.digest], image.layerBytes, c.name)
            XCTAssertEqual(destination.stored[image.config.digest], image.configBytes, c.name)
        }
    }

    /// An index of two platforms sharing a layer: every blob once, each child manifest put (by
    /// digest) before the index, which goes last under its tag.
    func testIndexPutsSharedBlobsOnceAndChildrenBeforeTheIndex() async throws {
        let image = TestImage()
        let otherConfigBytes = Array(#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let otherConfig = Descriptor(mediaType: MediaType.ociConfig, digest: SHA256Stream.digest(of: otherConfigBytes), size: Int64(otherConfigBytes.count))
        let otherBytes = Array(try CanonicalJSON.encode(ImageManifest(mediaType: MediaType.ociManifest, config: otherConfig, layers: [image.layer])))
        let other = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256Stream.digest(of: otherBytes), size: Int64(otherBytes.count))
        let indexBytes = Array(try CanonicalJSON.encode(ImageIndex(mediaType: MediaType.ociIndex, manifests: [image.manifest, other])))
        let index = Descriptor(mediaType: MediaType.ociIndex, digest: SHA256Stream.digest(of: indexBytes), size: Int64(indexBytes.count))
        var blobs = image.blobs(corruptLayer: false)
        blobs[otherConfig.digest] = otherConfigBytes
        blobs[other.digest] = otherBytes
        blobs[index.digest] = indexBytes
        let destination = MemoryDestination(misbehaviour: [], mountable: [:])
        let pushed = try await ImagePusher(backoff: .zero).push(index, from: MemorySource(blobs: blobs, origins: [:]), to: destination, tag: "multi")
        XCTAssertEqual(Set(pushed.blobs.keys), [image.layer.digest, image.config.digest, otherConfig.digest])
        XCTAssertEqual(destination.puts(of: image.layer.digest), 1)
        XCTAssertEqual(destination.manifestOrder, [image.manifest.digest, other.digest, index.digest])
        XCTAssertEqual(destination.tags, ["multi": index.digest])
        XCTAssertEqual(pushed.mediaType, MediaType.ociIndex)
    }

    /// A manifest whose bytes are not what its descriptor says, or that claims to be huge, is
    /// refused before any blob moves.
    func testManifestsAreCheckedBeforeAnyBlobMoves() async throws {
        let image = TestImage()
        var wrong = image.manifest
        wrong.size += 1
        var huge = image.manifest
        huge.size = 1 << 40
        let cases: [(String, Descriptor, ContentError)] = [
            ("size", wrong, .sizeMismatch(image.manifest.digest, expected: wrong.size, actual: image.manifest.size)),
            ("huge", huge, .tooLarge(image.manifest.digest, size: 1 << 40, limit: 4 << 20)),
        ]
        for (name, descriptor, expected) in cases {
            let destination = MemoryDestination(misbehaviour: [], mountable: [:])
            do {
                _ = try await ImagePusher(backoff: .zero).push(descriptor, from: MemorySource(blobs: image.blobs(corruptLayer: false), origins: [:]),
                                                               to: destination, tag: "v1")
                XCTFail("\(name): pushed")
            } catch let error as ContentError {
                XCTAssertEqual(error, expected, name)
            }
            XCTAssertTrue(destination.stored.isEmpty, name)
        }
    }
}

/// Progress events, in order, per blob. `@unchecked Sendable` is safe: `events` is reached only
/// while `lock` is held.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [TransferEvent] = []
    var record: TransferObserver { { [self] event in lock.withLock { events.append(event) } } }
    func states(of digest: Digest) -> [TransferState] { lock.withLock { events.filter { $0.digest == digest }.map(\.state) } }
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

/// The tests' source: `MemoryContent` (blobs in memory, mount origins given).
typealias MemorySource = MemoryContent

/// Commits a blob only when its stream ended cleanly, as a registry finishes an upload only
/// when the body arrived whole. `@unchecked Sendable` is safe: the mutable state is reached
/// only while its lock is held; the rest is immutable.
final class MemoryDestination: ContentDestination, @unchecked Sendable {
    /// A 5xx (worth another try) or a 403 (not).
    struct Refused: RetryableError { var isRetryable: Bool }
    let misbehaviour: ImagePusherTests.Misbehaviour
    /// What a mount can take from (the source registry's content).
    let mountable: [Digest: [UInt8]]
    private let lock = NSLock()
    private var blobs: [Digest: [UInt8]] = [:]
    private var manifestTags: [String: Digest] = [:]
    private var putCounts: [Digest: Int] = [:]
    private var manifests: [Digest] = []
    private var sizeQueries: [Digest: Int] = [:]

    init(misbehaviour: ImagePusherTests.Misbehaviour, mountable: [Digest: [UInt8]]) {
        self.misbehaviour = misbehaviour
        self.mountable = mountable
    }

    var stored: [Digest: [UInt8]] { lock.withLock { blobs } }
    var tags: [String: Digest] { lock.withLock { manifestTags } }
    var manifestOrder: [Digest] { lock.withLock { manifests } }
    func puts(of digest: Digest) -> Int { lock.withLock { putCounts[digest, default: 0] } }
    func sizeQueries(of digest: Digest) -> Int { lock.withLock { sizeQueries[digest, default: 0] } }
    func preload(_ digest: Digest, _ bytes: [UInt8]) { lock.withLock { blobs[digest] = bytes } }

    func blobSize(_ descriptor: Descriptor) async throws -> Int64? {
        lock.withLock {
            sizeQueries[descriptor.digest, default: 0] += 1
            return blobs[descriptor.digest].map { Int64($0.count) }
        }
    }

    func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool {
        guard !misbehaviour.contains(.refusesMounts), let bytes = mountable[descriptor.digest] else { return false }
        if !misbehaviour.contains(.mountsNothing) { lock.withLock { blobs[descriptor.digest] = bytes } }
        return true
    }

    func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws {
        let attempt = lock.withLock { putCounts[descriptor.digest, default: 0] += 1; return putCounts[descriptor.digest]! }
        var received: [UInt8] = []
        for try await chunk in chunks { received += chunk }
        if misbehaviour.contains(.deniesPuts) { throw Refused(isRetryable: false) }
        if misbehaviour.contains(.failsEveryPut) || (misbehaviour.contains(.failsFirstPut) && attempt == 1) { throw Refused(isRetryable: true) }
        if received.count > 1 << 20, misbehaviour.contains(.truncatesEveryPut) || (misbehaviour.contains(.truncatesFirstPut) && attempt == 1) {
            received.removeLast()
        }
        lock.withLock { blobs[descriptor.digest] = received }
    }

    func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws -> Digest? {
        lock.withLock {
            blobs[descriptor.digest] = bytes
            manifests.append(descriptor.digest)
            if let tag { manifestTags[tag] = descriptor.digest }
        }
        return nil
    }
}
