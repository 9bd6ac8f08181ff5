import Foundation
import ImageModel

/// What cosign signs for an image: the "simple signing" payload (containers/image's format,
/// cosign's `payload.SimpleContainerImage`) naming the repository and the manifest digest.
///
/// ```
/// {"critical":{"identity":{"docker-reference":"REGISTRY/REPO"},
///   "image":{"docker-manifest-digest":"sha256:…"},"type":"cosign container image signature"},
///  "optional":null}
/// ```
public struct SimpleSigningPayload: Equatable, Sendable {
    public static let mediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let signatureType = "cosign container image signature"
    /// Payloads are a few hundred bytes; a bigger layer is not read.
    public static let maxSize = 64 << 10

    /// The repository (`127.0.0.1:5000/team/app`), as go-containerregistry names it.
    public var dockerReference: String
    public var manifestDigest: Digest

    public init(dockerReference: String, manifestDigest: Digest) {
        self.dockerReference = dockerReference
        self.manifestDigest = manifestDigest
    }

    /// The payload for an image in `repository` (`REGISTRY/REPO`): go-containerregistry's
    /// `Repository.Name()`, which spells Docker Hub `index.docker.io`.
    public init(repository reference: Reference, manifestDigest: Digest) {
        let domain = reference.domain == Reference.defaultDomain ? "index.docker.io" : reference.domain
        self.init(dockerReference: "\(domain)/\(reference.path)", manifestDigest: manifestDigest)
    }

    /// The bytes Go's `json.Marshal` writes for this payload (field order, no spaces,
    /// `"optional":null`) — what cosign writes, so either tool's payloads look the same.
    /// References and digests hold no character JSON must escape.
    public var bytes: [UInt8] {
        Array(("{\"critical\":{\"identity\":{\"docker-reference\":\"\(dockerReference)\"},"
            + "\"image\":{\"docker-manifest-digest\":\"\(manifestDigest)\"},"
            + "\"type\":\"\(Self.signatureType)\"},\"optional\":null}").utf8)
    }

    /// Reads a payload someone signed. Only the critical section matters; `optional` may hold
    /// anything (cosign's `-a` annotations, a Rekor bundle).
    public init(parsing bytes: [UInt8]) throws {
        struct Document: Decodable {
            struct Critical: Decodable {
                struct Identity: Decodable {
                    var dockerReference: String?
                    enum CodingKeys: String, CodingKey { case dockerReference = "docker-reference" }
                }
                struct Image: Decodable {
                    var dockerManifestDigest: String
                    enum CodingKeys: String, CodingKey { case dockerManifestDigest = "docker-manifest-digest" }
                }
                var identity: Identity?
                var image: Image
                var type: String
            }
            var critical: Critical
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw SigningError(.badSignatureManifest, "the signed payload is not a simple-signing document", cause: error)
        }
        guard document.critical.type == Self.signatureType else {
            throw SigningError(.badSignatureManifest, "the signed payload's type is \"\(document.critical.type)\", not \"\(Self.signatureType)\"")
        }
        do {
            manifestDigest = try Digest(parsing: document.critical.image.dockerManifestDigest)
        } catch {
            throw SigningError(.badSignatureManifest, "the signed payload names no valid manifest digest", cause: error)
        }
        dockerReference = document.critical.identity?.dockerReference ?? ""
    }
}
