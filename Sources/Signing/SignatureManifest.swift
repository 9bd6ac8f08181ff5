import Foundation
import ImageModel
import Layers

/// The image cosign stores signatures in: at tag `sha256-<hex>.sig` of the signed image's
/// repository, an OCI manifest whose layers are simple-signing payloads, each with its
/// base64 signature in the annotation `dev.cosignproject.cosign/signature`. A new signature is
/// one more layer; the layers already there stay (cosign appends the same way).
public struct SignatureManifest: Sendable {
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"

    /// The layers, in order.
    public var layers: [Descriptor]

    public init(layers: [Descriptor] = []) {
        self.layers = layers
    }

    /// The tag cosign's `.sig` scheme uses for `digest`: `sha256-<hex>.sig`.
    public static func tag(for digest: Digest) -> String { "\(digest.algorithm)-\(digest.encoded).sig" }

    /// Reads a manifest fetched from the signature tag.
    public init(parsing bytes: [UInt8]) throws {
        do {
            layers = try JSONDecoder().decode(ImageManifest.self, from: Data(bytes)).layers
        } catch {
            throw SigningError(.badSignatureManifest, "the signature tag does not hold an image manifest", cause: error)
        }
    }

    /// The layer for `payload` signed with `signature`.
    public static func layer(payload: [UInt8], signature: [UInt8]) -> Descriptor {
        Descriptor(mediaType: SimpleSigningPayload.mediaType, digest: SHA256Stream.digest(of: payload),
                   size: Int64(payload.count),
                   annotations: [signatureAnnotation: Data(signature).base64EncodedString()])
    }

    /// Adds `layer` unless an equal one (same payload and signature) is already there — an
    /// Ed25519 signature of the same payload is the same bytes, so signing twice adds nothing.
    /// Returns whether the layer was added.
    @discardableResult
    public mutating func append(_ layer: Descriptor) -> Bool {
        guard !layers.contains(where: { $0.digest == layer.digest && $0.annotations?[Self.signatureAnnotation] == layer.annotations?[Self.signatureAnnotation] }) else {
            return false
        }
        layers.append(layer)
        return true
    }

    /// The config blob cosign writes for this image: no platform, the payloads as `diff_ids`,
    /// one empty history entry per layer, Go's zero time.
    public var configBytes: [UInt8] {
        let zero = "0001-01-01T00:00:00Z"
        let history = Array(repeating: "{\"created\":\"\(zero)\"}", count: layers.count).joined(separator: ",")
        let diffIDs = layers.map { "\"\($0.digest)\"" }.joined(separator: ",")
        return Array(("{\"architecture\":\"\",\"created\":\"\(zero)\",\"history\":[\(history)],\"os\":\"\","
            + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\(diffIDs)]},\"config\":{}}").utf8)
    }

    /// The manifest for these layers over `configBytes`.
    public var manifestBytes: [UInt8] {
        get throws {
            let config = configBytes
            let manifest = ImageManifest(mediaType: MediaType.ociManifest,
                                         config: Descriptor(mediaType: MediaType.ociConfig, digest: SHA256Stream.digest(of: config),
                                                            size: Int64(config.count)),
                                         layers: layers)
            return Array(try CanonicalJSON.encode(manifest))
        }
    }
}
