import Foundation
import ImageModel
import NIOCore
import Registry

/// What `sign` did.
public struct SignOutcome: Sendable {
    /// The image manifest (or index) digest that was signed.
    public var digest: Digest
    /// `REGISTRY/REPO:sha256-<hex>.sig`, where the signature went.
    public var signatureReference: String
    /// Whether a new layer was added (false: the same signature was already there).
    public var added: Bool
    /// How many signatures the tag now holds.
    public var count: Int
}

/// What `verify` found.
public struct VerifyOutcome: Sendable {
    /// The digest the reference points at now.
    public var digest: Digest
    /// How many of the tag's signatures verified with the key and name `digest`.
    public var verified: Int
    /// How many signatures the tag holds.
    public var total: Int
}

/// cosign's signatures in a registry, read and written over the distribution API: the
/// `sha256-<hex>.sig` tag beside the image (cosign's tag scheme, which `cosign verify --key`
/// reads), payload and config blobs pushed first, the manifest last.
public struct CosignSignatures: Sendable {
    public let client: RegistryClient

    /// Each signature is a blob to fetch; a tag with more than this many is refused rather than
    /// read (cosign sets no limit; a hostile registry could list millions).
    public static let maxSignatures = 1000

    public init(client: RegistryClient) {
        self.client = client
    }

    /// Signs the manifest `reference` points at now (a tag is resolved once, and the digest is
    /// what gets signed, as `cosign sign` does) and appends the signature to the `.sig` tag.
    public func sign(_ reference: Reference, with key: SigningKey) async throws -> SignOutcome {
        let repository = RegistryRepository(reference)
        let digest = try await resolve(reference, in: repository)
        let payload = SimpleSigningPayload(repository: reference, manifestDigest: digest).bytes
        let layer = SignatureManifest.layer(payload: payload, signature: try key.sign(payload))
        let tag = SignatureManifest.tag(for: digest)
        var manifest = try await existing(tag, in: repository) ?? SignatureManifest()
        let added = manifest.append(layer)
        if added {
            try await pushBlob(payload, to: repository)
            try await pushBlob(manifest.configBytes, to: repository)
            let bytes = try manifest.manifestBytes
            try await client.pushManifest(bytes: bytes, mediaType: MediaType.ociManifest, digest: SHA256Stream.digest(of: bytes),
                                          as: tag, to: repository)
        }
        return SignOutcome(digest: digest, signatureReference: "\(repository):\(tag)", added: added, count: manifest.layers.count)
    }

    /// Checks that some signature at the `.sig` tag of the manifest `reference` points at now
    /// verifies with `key` and names that very digest. Throws `.verification` otherwise — in
    /// particular when the tag has moved to another image since it was signed.
    public func verify(_ reference: Reference, with key: VerificationKey) async throws -> VerifyOutcome {
        let repository = RegistryRepository(reference)
        let digest = try await resolve(reference, in: repository)
        let tag = SignatureManifest.tag(for: digest)
        let shown = "\(reference.familiarDescription)"
        guard let manifest = try await existing(tag, in: repository), !manifest.layers.isEmpty else {
            let moved = reference.digest == nil ? " (it now points at \(digest); was the tag moved to another image?)" : ""
            throw SigningError(.verification, "\(shown): no signatures for \(digest) in \(repository) (tag \(tag) not found)\(moved)")
        }
        guard manifest.layers.count <= Self.maxSignatures else {
            throw SigningError(.badSignatureManifest, "\(repository):\(tag) holds \(manifest.layers.count) signatures (limit \(Self.maxSignatures))")
        }
        var verified = 0
        var signedOther: Digest?
        for layer in manifest.layers where layer.mediaType == SimpleSigningPayload.mediaType {
            guard let encoded = layer.annotations?[SignatureManifest.signatureAnnotation],
                  let signature = Data(base64Encoded: encoded) else { continue }
            let payload = try await fetchPayload(layer, from: repository)
            guard key.isValidSignature(Array(signature), for: payload) else { continue }
            // Signed by this key: now the payload must name the image the reference points at.
            guard let claims = try? SimpleSigningPayload(parsing: payload) else { continue }
            if claims.manifestDigest == digest { verified += 1 } else { signedOther = claims.manifestDigest }
        }
        guard verified > 0 else {
            if let signedOther {
                throw SigningError(.verification, "\(shown): the signature by \(key.name) is for \(signedOther), but the image is now \(digest)")
            }
            throw SigningError(.verification, "\(shown): none of the \(manifest.layers.count) signatures for \(digest) verifies with \(key.name)")
        }
        return VerifyOutcome(digest: digest, verified: verified, total: manifest.layers.count)
    }

    // MARK: pieces

    /// The digest `reference` names: its own digest, or what its tag points at now (the
    /// manifest's bytes hashed; `fetchManifest` checks them).
    func resolve(_ reference: Reference, in repository: RegistryRepository) async throws -> Digest {
        if let digest = reference.digest { return digest }
        return try await client.fetchManifest(reference.tag ?? Reference.defaultTag, in: repository).digest
    }

    /// The signatures already at `tag`, nil when the tag does not exist.
    func existing(_ tag: String, in repository: RegistryRepository) async throws -> SignatureManifest? {
        do {
            let manifest = try await client.fetchManifest(tag, in: repository)
            return try SignatureManifest(parsing: manifest.bytes)
        } catch let error as RegistryError where error.kind == .notFound {
            return nil
        }
    }

    /// Uploads a small blob in one request unless the repository has it.
    func pushBlob(_ bytes: [UInt8], to repository: RegistryRepository) async throws {
        let digest = SHA256Stream.digest(of: bytes)
        if try await client.blobSize(digest, in: repository) != nil { return }
        guard case .session(let session) = try await client.startUpload(to: repository) else { return }  // no mount asked: always a session
        try await client.finishUpload(session, digest: digest, body: .bytes(bytes), to: repository)
    }

    /// A payload layer's bytes, checked against its digest and size.
    func fetchPayload(_ layer: Descriptor, from repository: RegistryRepository) async throws -> [UInt8] {
        guard layer.size >= 0, layer.size <= SimpleSigningPayload.maxSize else {
            throw SigningError(.badSignatureManifest, "\(repository): signature payload \(layer.digest) is \(layer.size) bytes (limit 64 KiB)")
        }
        let (response, _) = try await client.openBlob(layer.digest, in: repository)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: SimpleSigningPayload.maxSize)
        } catch {
            throw SigningError(.badSignatureManifest, "\(repository): cannot read signature payload \(layer.digest) (limit 64 KiB)", cause: error)
        }
        let bytes = Array(buffer: body)
        guard SHA256Stream.digest(of: bytes) == layer.digest, bytes.count == layer.size else {
            throw SigningError(.badSignatureManifest, "\(repository): signature payload \(layer.digest) does not match its digest")
        }
        return bytes
    }
}
