import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Layers
import Registry
import XCTest
@testable import swiftdock

/// `build --push`'s uploader against the loopback CNCF registry of scripts/registries.sh
/// (skipped without it): the config goes up as soon as the build hands the image over, and the
/// manifest once every blob it names is confirmed there; with a layer that never arrived the
/// registry holds no manifest and the push after the build is left to put it. (That no such
/// PUT is even sent — docker-registry would refuse it anyway — is `ImagePusherTests`'
/// `testManifestIsPutEarlyOnlyWhenEveryBlobIsSettled`.)
final class RegistryLayerUploaderTests: XCTestCase {
    func registry() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !value.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set (scripts/registries.sh start)")
        }
        return value
    }

    /// A store and a registry client in a scratch directory removed after the test.
    func makeUploader(_ target: Reference) throws -> (RegistryLayerUploader, RegistryClient) {
        let home = NSTemporaryDirectory() + "uploader-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        let resolver = CredentialResolver(environment: ["HOME": home, "PATH": "/usr/bin:/bin"], explicit: [:])
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 1), authenticator: RegistryAuthenticator(resolver: resolver))
        let uploader = RegistryLayerUploader(client: client, target: target, store: try ImageStore(root: home + "/store"), jobs: 2) { _ in }
        return (uploader, client)
    }

    /// A one-layer image whose layer is `layer` (any bytes: the registry checks digests, not tar).
    func image(layer: [UInt8]) throws -> ImageDocuments {
        let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: SHA256Stream.digest(of: layer), size: Int64(layer.count))
        var config = ImageConfiguration(platform: Platform.host)
        config.rootfs = RootFS(diffIDs: [SHA256Stream.digest(of: layer + [1])])
        return try ImageDocuments(config: config, configMediaType: MediaType.ociConfig, manifest: {
            ImageManifest(mediaType: MediaType.ociManifest, config: $0, layers: [descriptor])
        }, manifestMediaType: MediaType.ociManifest)
    }

    func testManifestGoesUpOnlyOnceEveryBlobIsConfirmed() async throws {
        let host = try registry()
        for streamsTheLayer in [false, true] {
            let target = try Reference(parsing: "\(host)/uploader/\(UUID().uuidString.lowercased().prefix(8)):v1")
            let (uploader, client) = try makeUploader(target)
            let layer = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ (streamsTheLayer ? 1 : 2)) }
            let documents = try image(layer: layer)
            if streamsTheLayer {
                let written = WrittenLayer(diffID: documents.config.digest, digest: SHA256Stream.digest(of: layer),
                                           size: Int64(layer.count), uncompressedSize: Int64(layer.count))
                _ = try await uploader.uploadStreamed(awaitingRegistry: true, file: nil) { sink in
                    try layer.withUnsafeBytes { try sink.write($0) }
                    try sink.close()
                    return written
                }
            }
            uploader.sendImage(documents)
            let (settled, placed) = await uploader.settled()
            let name = streamsTheLayer ? "layer streamed" : "layer never sent"
            XCTAssertEqual(settled[documents.config.digest], .pushed(attempts: 1), "\(name): the config went up at once")
            let repository = RegistryRepository(target)
            let configSize = try await client.blobSize(documents.config.digest, in: repository)
            XCTAssertEqual(configSize, documents.config.size, name)
            if streamsTheLayer {
                XCTAssertEqual(placed, documents.manifest.digest, name)
                let stored = try await client.fetchManifest("v1", in: repository)
                XCTAssertEqual(stored.bytes, documents.manifestBytes, name)
            } else {
                XCTAssertNil(placed, name)
                do {
                    _ = try await client.fetchManifest("v1", in: repository)
                    XCTFail("\(name): a manifest went up before its layer")
                } catch let error as RegistryError {
                    XCTAssertEqual(error.status, 404, "\(name): \(error)")
                }
            }
            await client.shutdown()
        }
    }
}
