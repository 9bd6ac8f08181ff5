import AsyncHTTPClient
import Foundation
import ImageModel
import Layers
import NIOCore
import NIOHTTP1

/// The artifacts a registry lists as referring to a manifest, and how it was asked.
public struct RemoteReferrers: Sendable {
    /// Where the list came from (OCI distribution-spec v1.1, "Listing Referrers").
    public enum Source: String, Sendable {
        /// `GET /v2/<name>/referrers/<digest>` answered.
        case api = "referrers API"
        /// The API answered 404; the `sha256-<hex>` tag held an OCI index.
        case tagSchema = "referrers tag"
        /// The API answered 404 and the tag holds no index: no referrers (as the spec says to assume).
        case none
    }

    public var manifests: [Descriptor]
    public var source: Source
}

/// OCI 1.1 referrers on a registry: listing them (the API, else the referrers tag schema) and
/// keeping the tag schema's index up to date for registries without the API — exactly as
/// distribution-spec v1.1 describes ("Pushing Manifests with Subject", "Referrers Tag Schema").
extension RegistryClient {
    /// Pages of a referrers list followed at most (each at most 4 MiB).
    static let maxReferrersPages = 64
    /// Referrers listed at most, over all pages.
    static let maxReferrers = 10_000

    /// The referrers of `subject` in `repository`: from the referrers API when the registry
    /// answers it (every `Link: <…>; rel="next"` page followed), else — on 404 — from the index
    /// tagged `sha256-<hex>`; none when that tag is absent or holds no index.
    public func fetchReferrers(of subject: Digest, in repository: RegistryRepository) async throws -> RemoteReferrers {
        var target = "/v2/\(repository.name)/referrers/\(subject)"
        var manifests: [Descriptor] = []
        for page in 0..<Self.maxReferrersPages {
            let request = RegistryRequest(method: .GET, registry: repository.registry, target: target,
                                          headers: [("Accept", MediaType.ociIndex)], scopes: repository.pullScopes)
            let response = try await send(request)
            if response.status == .notFound && page == 0 {
                _ = try? await response.body.collect(upTo: 64 << 10)
                return try await fetchReferrersTag(of: subject, in: repository)
            }
            guard response.status == .ok else {
                throw await Self.failure(response, registry: repository.registry, repository: repository.name,
                                         what: "list referrers of \(subject)")
            }
            let bytes: ByteBuffer
            do {
                bytes = try await response.body.collect(upTo: Self.maxManifestSize)
            } catch {
                throw repository.error(.invalidResponse, "referrers of \(subject): cannot read the list (\(Self.describe(error)); limit 4 MiB)")
            }
            guard let index = try? JSONDecoder().decode(ImageIndex.self, from: Data(Array(buffer: bytes))) else {
                throw repository.error(.invalidResponse, "referrers of \(subject): the registry's answer is not an OCI index")
            }
            manifests += index.manifests
            guard manifests.count <= Self.maxReferrers else {
                throw repository.error(.invalidResponse, "referrers of \(subject): more than \(Self.maxReferrers) listed")
            }
            guard let next = response.headers.first(name: "Link").flatMap(Self.nextLink) else {
                return RemoteReferrers(manifests: manifests, source: .api)
            }
            target = Self.resolve(next, against: absoluteURL(target, registry: repository.registry))
        }
        throw repository.error(.invalidResponse, "referrers of \(subject): more than \(Self.maxReferrersPages) pages")
    }

    /// The index tagged `sha256-<hex>` (nil when the tag is absent); a tag that holds anything
    /// but an OCI index is an error, so that it is never overwritten.
    public func fetchReferrersIndex(of subject: Digest, in repository: RegistryRepository) async throws -> ImageIndex? {
        let tag = RegistryRepository.referrersTag(for: subject)
        let manifest: RemoteManifest
        do {
            manifest = try await fetchManifest(tag, in: repository)
        } catch let error as RegistryError where error.kind == .notFound {
            return nil
        }
        guard manifest.mediaType == MediaType.ociIndex,
              let index = try? JSONDecoder().decode(ImageIndex.self, from: Data(manifest.bytes)) else {
            throw repository.error(.unsupported, "the referrers tag \(tag) holds \(manifest.mediaType), not an OCI index")
        }
        return index
    }

    private func fetchReferrersTag(of subject: Digest, in repository: RegistryRepository) async throws -> RemoteReferrers {
        let index: ImageIndex?
        do {
            index = try await fetchReferrersIndex(of: subject, in: repository)
        } catch let error as RegistryError where error.kind == .unsupported {
            // "…and the tag schema does not return a valid image index, the client SHOULD assume
            // there are no referrers."
            return RemoteReferrers(manifests: [], source: .none)
        }
        guard let index else { return RemoteReferrers(manifests: [], source: .none) }
        return RemoteReferrers(manifests: index.manifests, source: .tagSchema)
    }

    /// Adds `referrers` (descriptors carrying `artifactType` and the manifests' annotations) to
    /// the index tagged `sha256-<hex>` of `subject`: fetched (404 → an empty index), each
    /// descriptor appended unless its digest is listed, and put back when anything was added.
    /// Returns the digests added. Without the referrers API there is no atomic update: two
    /// clients updating the same tag at once can lose one's entry (the spec's caveat).
    @discardableResult
    public func addToReferrersTag(_ referrers: [Descriptor], subject: Digest,
                                  in repository: RegistryRepository) async throws -> [Digest] {
        var index = try await fetchReferrersIndex(of: subject, in: repository)
            ?? ImageIndex(mediaType: MediaType.ociIndex, manifests: [])
        var added: [Digest] = []
        for referrer in referrers where !index.manifests.contains(where: { $0.digest == referrer.digest }) {
            index.manifests.append(referrer)
            added.append(referrer.digest)
        }
        guard !added.isEmpty else { return [] }
        index.mediaType = MediaType.ociIndex
        let bytes = Array(try CanonicalJSON.encode(index))
        try await pushManifest(bytes: bytes, mediaType: MediaType.ociIndex, digest: SHA256Stream.digest(of: bytes),
                               as: RegistryRepository.referrersTag(for: subject), to: repository)
        return added
    }

    /// The URL of `rel="next"` in a `Link` header (RFC 5988), if any.
    static func nextLink(_ header: String) -> String? {
        for link in header.split(separator: ",") {
            let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, first.hasPrefix("<"), first.hasSuffix(">") else { continue }
            if parts.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" || $0 == "rel=next" }) {
                return String(first.dropFirst().dropLast())
            }
        }
        return nil
    }
}

extension RegistryRepository {
    /// The referrers tag of a digest: its algorithm truncated to 32 characters, `-`, its encoded
    /// part truncated to 64, every character a tag may not hold replaced by `-`
    /// (`sha256:abc…` → `sha256-abc…`).
    public static func referrersTag(for digest: Digest) -> String {
        let text = String(digest.algorithm.prefix(32)) + "-" + String(digest.encoded.prefix(64))
        return String(text.unicodeScalars.map { scalar -> Character in
            let allowed = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "." || scalar == "-"
            return allowed ? Character(scalar) : "-"
        })
    }
}
