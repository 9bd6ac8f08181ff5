import Foundation
import ImageModel
import NIOCore

/// An image as a registry holds it, read without pulling: the manifest the reference names
/// (an index, for a multi-platform image), the platform's manifest and its config.
public struct RemoteImage: Sendable {
    /// What the reference names (index or manifest), as sent.
    public var top: RemoteManifest
    /// The image manifest for the platform (the same as `top` for a single-platform image).
    public var manifest: RemoteManifest
    public var decodedManifest: ImageManifest
    /// The config blob's bytes, verified against its digest.
    public var configBytes: [UInt8]
    public var config: ImageConfiguration
}

/// `inspect --remote`: reads manifests and the config from a registry and stores nothing,
/// as `docker buildx imagetools inspect` and `skopeo inspect` do.
public struct RemoteImageInspector: Sendable {
    public let client: RegistryClient
    public let platform: Platform

    /// Configs are small; a bigger body than this is refused rather than buffered.
    static let maxConfigSize = 8 << 20

    public init(client: RegistryClient, platform: Platform = .host) {
        self.client = client
        self.platform = platform
    }

    public func inspect(_ reference: Reference) async throws -> RemoteImage {
        let repository = RegistryRepository(reference)
        let (top, manifestBytes) = try await client.fetchPlatformManifest(reference, platform: platform, in: repository)
        let manifest: ImageManifest = try decode(manifestBytes.bytes, "manifest \(manifestBytes.digest)", repository)
        let (response, _) = try await client.openBlob(manifest.config.digest, in: repository)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maxConfigSize)
        } catch {
            throw repository.error(.invalidResponse, "config \(manifest.config.digest): cannot read the body (limit 8 MiB): \(error)")
        }
        let bytes = Array(buffer: body)
        let actual = SHA256Stream.digest(of: bytes)
        guard actual == manifest.config.digest else {
            throw repository.error(.digestMismatch, "config \(manifest.config.digest): content hashes to \(actual)")
        }
        let config: ImageConfiguration = try decode(bytes, "config \(manifest.config.digest)", repository)
        return RemoteImage(top: top, manifest: manifestBytes, decodedManifest: manifest, configBytes: bytes, config: config)
    }

    private func decode<T: Decodable>(_ bytes: [UInt8], _ what: String, _ repository: RegistryRepository) throws -> T {
        try RegistryClient.decode(T.self, bytes, what, repository)
    }
}

extension RegistryClient {
    /// The manifest `reference` names (`top`) and, when that is an index, the image manifest
    /// chosen from it for `platform` (else `top` again) — what pull and `inspect --remote` read.
    public func fetchPlatformManifest(_ reference: Reference, platform: Platform, in repository: RegistryRepository) async throws
        -> (top: RemoteManifest, manifest: RemoteManifest) {
        let top = try await fetchManifest(reference.digest?.description ?? reference.tag ?? Reference.defaultTag, in: repository)
        guard MediaType.isIndex(top.mediaType) else { return (top, top) }
        let index = try Self.decode(ImageIndex.self, top.bytes, "index \(top.digest)", repository)
        guard let entry = PlatformMatcher.choose(index.manifests, for: platform) else {
            let offered = PlatformMatcher.available(index.manifests)
            throw repository.error(.notFound, "no matching manifest for \(platform) in \(reference.tag ?? top.digest.description)"
                                   + " (available: \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))")
        }
        let manifest = try await fetchManifest(entry.digest.description, in: repository)
        guard MediaType.isManifest(manifest.mediaType) else {
            throw repository.error(.unsupported, "manifest \(entry.digest) for \(platform) is a nested index (\(manifest.mediaType))")
        }
        return (top, manifest)
    }

    /// Decodes a registry document, naming it and the repository when it does not decode.
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String, _ repository: RegistryRepository) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw repository.error(.invalidResponse, "\(what): cannot decode: \(error)".replacingOccurrences(of: "\n", with: " "))
        }
    }
}
