import AsyncHTTPClient
import Foundation
import ImageModel
import NIOCore
import NIOHTTP1

/// A manifest or index exactly as the registry sent it.
public struct RemoteManifest: Sendable {
    /// The bytes received: their SHA-256 is the manifest digest, so they are stored unchanged.
    public var bytes: [UInt8]
    /// From `Content-Type`, else from the document's `mediaType` field or its shape.
    public var mediaType: String
    /// The verified digest of `bytes`.
    public var digest: Digest

    /// A descriptor for this manifest.
    public var descriptor: Descriptor {
        Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }
}

extension RegistryClient {
    /// The manifest media types swiftdock reads, index types first: OCI index, Docker
    /// manifest list, OCI manifest, Docker v2 schema 2.
    public static let manifestAcceptTypes = [
        MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest,
    ]

    /// Registries cap manifests at 4 MiB (distribution's default); a bigger body is refused.
    static let maxManifestSize = 4 << 20

    /// `GET /v2/<repo>/manifests/<tag|digest>` with Accept for every manifest type.
    /// The bytes are verified against `digest` when the reference is a digest, else against
    /// `Docker-Content-Digest` when the registry sends a SHA-256 one.
    /// - Parameter reference: a tag or a digest (`sha256:…`).
    public func fetchManifest(_ reference: String, in repository: RegistryRepository) async throws -> RemoteManifest {
        let request = RegistryRequest(method: .GET, registry: repository.registry,
                                      target: repository.manifestPath(reference),
                                      headers: [("Accept", Self.manifestAcceptTypes.joined(separator: ", "))],
                                      scopes: repository.pullScopes)
        let response = try await send(request)
        let what = "manifest \(reference)"
        guard response.status == .ok else {
            throw await Self.failure(response, registry: repository.registry, repository: repository.name, what: "pull \(what)")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maxManifestSize)
        } catch {
            throw repository.error(.invalidResponse, "\(what): cannot read the body (\(Self.describe(error)); limit 4 MiB)")
        }
        let bytes = Array(buffer: body)
        let actual = SHA256Stream.digest(of: bytes)
        if let expected = try? Digest(parsing: reference), expected != actual {
            throw repository.error(.digestMismatch, "\(what): content hashes to \(actual)")
        }
        if let header = response.headers.first(name: "Docker-Content-Digest"),
           let announced = try? Digest(parsing: header), announced.algorithm == "sha256", announced != actual {
            throw repository.error(.digestMismatch, "\(what): content hashes to \(actual), the registry announced \(announced)")
        }
        let mediaType = try Self.manifestMediaType(header: response.headers.first(name: "Content-Type"), bytes: bytes,
                                                   what: what, repository: repository)
        return RemoteManifest(bytes: bytes, mediaType: mediaType, digest: actual)
    }

    /// `PUT /v2/<repo>/manifests/<tag|digest>` with the manifest's own media type as
    /// Content-Type. Checks `Docker-Content-Digest` when the registry returns one. Returns the
    /// response's headers (`OCI-Subject` says the registry indexed the manifest's subject).
    @discardableResult
    public func pushManifest(bytes: [UInt8], mediaType: String, digest: Digest, as reference: String,
                             to repository: RegistryRepository) async throws -> HTTPHeaders {
        let request = RegistryRequest(method: .PUT, registry: repository.registry,
                                      target: repository.manifestPath(reference),
                                      headers: [("Content-Type", mediaType)], body: .bytes(bytes),
                                      scopes: repository.pushScopes)
        let response = try await send(request)
        guard response.status == .created || response.status == .ok || response.status == .accepted else {
            throw await Self.failure(response, registry: repository.registry, repository: repository.name,
                                     what: "push manifest \(reference)")
        }
        _ = try? await response.body.collect(upTo: 1 << 20)
        if let header = response.headers.first(name: "Docker-Content-Digest"),
           let returned = try? Digest(parsing: header), returned.algorithm == digest.algorithm, returned != digest {
            throw repository.error(.digestMismatch, "push manifest \(reference): the registry stored \(returned), expected \(digest)")
        }
        return response.headers
    }

    /// The media type of a manifest body: `Content-Type` when it names a manifest type,
    /// else the document's `mediaType`, else its shape (`manifests` → OCI index, `layers` →
    /// OCI manifest). Schema 1 and unknown types are refused with a clear message.
    static func manifestMediaType(header: String?, bytes: [UInt8], what: String,
                                  repository: RegistryRepository) throws -> String {
        let contentType = header.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces) }
        if let contentType, manifestAcceptTypes.contains(contentType) { return contentType }
        struct Shape: Decodable {
            var schemaVersion: Int?
            var mediaType: String?
            var manifests: [Descriptor]?
            var layers: [Descriptor]?
        }
        guard let shape = try? JSONDecoder().decode(Shape.self, from: Data(bytes)) else {
            throw repository.error(.invalidResponse, "\(what): not a JSON manifest (Content-Type \(contentType ?? "none"))")
        }
        if shape.schemaVersion == 1 || (contentType ?? "").contains("v1+") {
            throw repository.error(.unsupported, "\(what): Docker image manifest schema 1 is not supported")
        }
        if let type = shape.mediaType, manifestAcceptTypes.contains(type) { return type }
        if shape.manifests != nil { return MediaType.ociIndex }
        if shape.layers != nil { return MediaType.ociManifest }
        throw repository.error(.unsupported, "\(what): unsupported manifest type \(shape.mediaType ?? contentType ?? "unknown")")
    }
}
