import Foundation
import ImageModel
import ImageStore
import TemporaryDirectories
import XCTest
@testable import ImageBuilder

/// The cache manifest: what the exporter writes reads back as the same records, `mode`
/// chooses the steps, and every malformed cache is an error naming the fault.
final class BuildCacheManifestTests: XCTestCase {
    var store: ImageStore!

    override func setUpWithError() throws {
        store = try ImageStore(root: makeTemporaryDirectory("cachemanifest"))
    }

    private func key(_ n: Int) -> String { String(repeating: String(n % 10), count: 64) }

    /// Three steps: a layer in an earlier stage, a config-only step and a layer in the final stage.
    private func seed() throws -> [BuildResult.CacheStep] {
        let layerA = try store.writeBlob(Array("layer a".utf8)), layerB = try store.writeBlob(Array("layer b".utf8))
        let history = [History(created: "2026-01-01T00:00:00Z", createdBy: "RUN x")]
        func descriptor(_ digest: Digest) -> Descriptor { Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 7) }
        try store.writeStepCacheRecord(StepCacheRecord(layer: .init(descriptor: descriptor(layerA), diffID: layerB), history: history), key: key(1))
        try store.writeStepCacheRecord(StepCacheRecord(layer: nil, history: history), key: key(2))
        try store.writeStepCacheRecord(StepCacheRecord(layer: .init(descriptor: descriptor(layerB), diffID: layerA), history: history), key: key(3))
        return [.init(key: key(1), isFinalStage: false), .init(key: key(2), isFinalStage: true),
                .init(key: key(3), isFinalStage: true), .init(key: key(4), isFinalStage: true)]
    }

    private func read(_ manifest: Descriptor) throws -> ImportedBuildCache {
        let decoded = try JSONDecoder().decode(ImageManifest.self, from: Data(try store.readBlob(manifest.digest)))
        return try ImportedBuildCache(manifest: try store.readBlob(manifest.digest), config: try store.readBlob(decoded.config.digest),
                                      origin: .layout(directory: "/unused"))
    }

    func testExportedRecordsReadBackAndModeChoosesTheSteps() throws {
        let steps = try seed()
        let max = try read(try BuildCacheExporter.writeManifest(steps: steps, mode: .max, store: store))
        XCTAssertEqual(Set(max.records.keys), [key(1), key(2), key(3)], "a step without a record is left out")
        for k in [key(1), key(2), key(3)] { XCTAssertEqual(max.records[k], store.stepCacheRecord(key: k)) }
        let min = try read(try BuildCacheExporter.writeManifest(steps: steps, mode: .min, store: store))
        XCTAssertEqual(Set(min.records.keys), [key(2), key(3)], "mode=min: the final stage only")
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(try store.readBlob(
            try BuildCacheExporter.writeManifest(steps: steps + steps, mode: .max, store: store).digest)))
        XCTAssertEqual(manifest.layers.count, 2, "each layer once")
        XCTAssertEqual(manifest.config.mediaType, BuildCacheConfig.configMediaType)
    }

    func testMalformedCachesAreErrors() throws {
        let layer = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try store.writeBlob(Array("x".utf8)), size: 1)
        let config = Descriptor(mediaType: BuildCacheConfig.configMediaType, digest: layer.digest, size: 1)
        func manifest(_ config: Descriptor, _ layers: [Descriptor]) throws -> [UInt8] {
            Array(try JSONEncoder().encode(ImageManifest(mediaType: MediaType.ociManifest, config: config, layers: layers)))
        }
        let goodLayer = #"{"blob":"\#(layer.digest)","diffID":"\#(layer.digest)"}"#
        let cases: [(name: String, manifest: [UInt8], config: String, error: String)] = [
            ("not JSON", Array("{".utf8), "{}", "not a cache manifest"),
            ("an image", try manifest(Descriptor(mediaType: MediaType.ociConfig, digest: layer.digest, size: 1), []), "{}",
             "not a swiftdock build cache"),
            ("config not JSON", try manifest(config, []), "[", "malformed cache config"),
            ("future version", try manifest(config, []), #"{"version":2,"layers":[],"records":[]}"#, "version 2 is not supported"),
            ("layer count", try manifest(config, []), #"{"version":1,"layers":[\#(goodLayer)],"records":[]}"#, "do not match"),
            ("bad key", try manifest(config, []), #"{"version":1,"layers":[],"records":[{"key":"../x","history":[]}]}"#, "is not a step key"),
            ("layer index", try manifest(config, [layer]),
             #"{"version":1,"layers":[\#(goodLayer)],"records":[{"key":"\#(key(1))","layer":1,"history":[]}]}"#, "names layer 1 of 1"),
        ]
        for c in cases {
            XCTAssertThrowsError(try ImportedBuildCache(manifest: c.manifest, config: Array(c.config.utf8), origin: .layout(directory: "/x")),
                                 c.name) { error in
                XCTAssertTrue("\(error)".contains(c.error), "\(c.name): \(error)")
            }
        }
    }
}
