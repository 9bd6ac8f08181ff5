import Foundation
import ImageModel
import Signing
import XCTest

/// The simple-signing payload and the `.sig` manifest, byte for byte as cosign writes them.
final class SignatureManifestTests: XCTestCase {
    let digest = try! Digest(parsing: "sha256:e2d38513cd267a49e0735a053fc9f81175925b214a5bd4a90f7a8447f8c6658d")

    func testPayloadIsCosignsBytes() throws {
        // Read back from a registry after `cosign sign` 2.5.0.
        let cosign = #"{"critical":{"identity":{"docker-reference":"127.0.0.1:49497/demo"},"image":{"docker-manifest-digest":"sha256:e2d38513cd267a49e0735a053fc9f81175925b214a5bd4a90f7a8447f8c6658d"},"type":"cosign container image signature"},"optional":null}"#
        let payload = SimpleSigningPayload(repository: try Reference(parsing: "127.0.0.1:49497/demo:v1"), manifestDigest: digest)
        XCTAssertEqual(String(decoding: payload.bytes, as: UTF8.self), cosign)
        XCTAssertEqual(try SimpleSigningPayload(parsing: Array(cosign.utf8)), payload)
        // Docker Hub is named as go-containerregistry names it.
        XCTAssertEqual(SimpleSigningPayload(repository: try Reference(parsing: "alpine"), manifestDigest: digest).dockerReference,
                       "index.docker.io/library/alpine")
    }

    func testPayloadsThatAreNotImageSignaturesAreRefused() {
        for text in [#"{"critical":{"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"}}"#,
                     #"{"critical":{"image":{"docker-manifest-digest":"\#(digest)"},"type":"atomic container signature"}}"#,
                     "[]", ""] {
            XCTAssertThrowsError(try SimpleSigningPayload(parsing: Array(text.utf8)), text)
        }
    }

    func testTagAppendAndConfig() throws {
        XCTAssertEqual(SignatureManifest.tag(for: digest), "sha256-\(digest.encoded).sig")
        let payload = SimpleSigningPayload(dockerReference: "r/x", manifestDigest: digest).bytes
        var manifest = SignatureManifest()
        XCTAssertTrue(manifest.append(SignatureManifest.layer(payload: payload, signature: [1, 2, 3])))
        XCTAssertFalse(manifest.append(SignatureManifest.layer(payload: payload, signature: [1, 2, 3])), "the same signature twice")
        XCTAssertTrue(manifest.append(SignatureManifest.layer(payload: payload, signature: [4])))
        XCTAssertEqual(manifest.layers.map { $0.annotations?[SignatureManifest.signatureAnnotation] }, ["AQID", "BA=="])

        let bytes = try manifest.manifestBytes
        let decoded = try JSONDecoder().decode(ImageManifest.self, from: Data(bytes))
        XCTAssertEqual(decoded.mediaType, MediaType.ociManifest)
        XCTAssertEqual(decoded.layers.map(\.mediaType), Array(repeating: SimpleSigningPayload.mediaType, count: 2))
        XCTAssertEqual(try SignatureManifest(parsing: bytes).layers, manifest.layers)
        struct Config: Decodable {
            struct RootFS: Decodable { var type: String; var diff_ids: [String] }
            var rootfs: RootFS
            var history: [[String: String]]
        }
        let config = try JSONDecoder().decode(Config.self, from: Data(manifest.configBytes))
        XCTAssertEqual(config.rootfs.diff_ids, manifest.layers.map(\.digest.description))
        XCTAssertEqual(config.history.count, 2)
        XCTAssertThrowsError(try SignatureManifest(parsing: Array("{}".utf8)))
    }
}
