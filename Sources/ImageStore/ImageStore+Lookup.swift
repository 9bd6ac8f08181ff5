import Foundation
import ImageModel

/// An image found by the text a user typed: the index entry, and the reference when the text
/// named the image by name (nil when it named it by image ID).
public struct ImageLookup: Hashable, Sendable {
    public var manifest: Descriptor
    public var reference: Reference?

    public init(manifest: Descriptor, reference: Reference?) {
        self.manifest = manifest
        self.reference = reference
    }
}

/// Finding an image the way docker does wherever a command takes one (`run`, `inspect`, `tag`,
/// `rmi`, `save`, `push`, `FROM`, `COPY --from`), so every command agrees on what a name means.
extension ImageStore {
    /// Resolves `text` in docker's order (moby `daemon/images.GetImage`): a full image ID
    /// (64 hex digits, with or without `sha256:`) names the image whose config digest it is;
    /// otherwise the text is a reference (`name`, `name:tag`, `name@digest`) looked up by tag;
    /// when no tag matches and the text is a hex string (optionally `sha256:`-prefixed), it is
    /// a prefix of an image ID. The image ID is the config digest, which `build` prints.
    ///
    /// Returns nil when nothing matches and the text is a reference a caller may pull. Throws
    /// `imageNotFound` for a full ID that is not stored (nothing could pull it),
    /// `ambiguousImageID` when a prefix matches several images, and the reference's parse
    /// error when the text is neither an ID nor a valid reference.
    public func lookup(_ text: String) throws -> ImageLookup? {
        let hex = ImageStore.imageIDHex(text)
        if let hex, hex.count == 64 {
            guard let entry = try resolve(imageIDPrefix: hex) else { throw StoreError.imageNotFound(text) }
            return ImageLookup(manifest: entry, reference: nil)
        }
        let reference: Reference
        do {
            reference = try Reference(parsing: text)
        } catch {
            // `sha256:` plus a short prefix does not parse as a reference in every case.
            if hex != nil, let entry = try resolve(imageIDPrefix: text) { return ImageLookup(manifest: entry, reference: nil) }
            throw error
        }
        if let entry = try resolve(reference) { return ImageLookup(manifest: entry, reference: reference) }
        if hex != nil, let entry = try resolve(imageIDPrefix: text) { return ImageLookup(manifest: entry, reference: nil) }
        return nil
    }

    /// `lookup`, for commands that only read the store: nothing found is `imageNotFound`.
    public func findImage(_ text: String) throws -> ImageLookup {
        guard let found = try lookup(text) else {
            throw StoreError.imageNotFound((try? Reference(parsing: text).familiarDescription) ?? text)
        }
        return found
    }

    /// The lowercase hex digits of `text` when it could be (a prefix of) an image ID: hex only,
    /// at most 64 digits, optionally after `sha256:`. Upper case is not an ID (docker's IDs
    /// are lower case, and `ABC` must stay a reference error).
    static func imageIDHex(_ text: String) -> String? {
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst("sha256:".count)) : text
        guard !hex.isEmpty, hex.count <= 64,
              hex.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else { return nil }
        return hex
    }

    // MARK: untagged images

    /// Keeps an image with no name, as docker keeps `docker build .` without `-t`: an index
    /// entry without `org.opencontainers.image.ref.name` (which the OCI layout allows), listed
    /// as `<none>:<none>`. Nothing changes when some entry already holds the manifest. The
    /// manifest's blobs must be stored (or, for layers, have a remote source).
    public func keepUntagged(manifest: Descriptor) throws {
        guard MediaType.isManifest(manifest.mediaType) || MediaType.isIndex(manifest.mediaType) else {
            throw StoreError.unsupportedMediaType(manifest.mediaType, digest: manifest.digest)
        }
        var entry = manifest
        entry.annotations = ImageStore.withoutRefName(manifest.annotations)
        try modifyIndex { index in
            _ = try reachableBlobs(from: manifest, requirePresent: true, allowRemoteLayers: true)
            if !index.manifests.contains(where: { $0.digest == manifest.digest }) { index.manifests.append(entry) }
        }
    }

    /// Whether an index entry is an untagged ("dangling") image.
    static func isDangling(_ entry: Descriptor) -> Bool {
        entry.annotations?[refNameAnnotation] == nil
    }

    /// Annotations without the tag's name; nil when nothing is left.
    static func withoutRefName(_ annotations: [String: String]?) -> [String: String]? {
        var rest = annotations ?? [:]
        rest[refNameAnnotation] = nil
        return rest.isEmpty ? nil : rest
    }

    /// Removes an image named by ID: every entry (tags and the untagged entry) holding that
    /// manifest, then the blobs no other image needs — `docker rmi <ID>`.
    public func removeImage(manifest digest: Digest) throws -> UntagResult {
        try removeEntries(named: digest.description) { $0.digest == digest }
    }

    /// Removes every untagged image and its blobs no other image uses, as `docker image prune`
    /// does — with `createdBefore`, only images created before then (`--filter until=`; one
    /// whose `created` is unreadable stays); returns what each removal deleted.
    public func pruneDanglingImages(createdBefore: Date? = nil) throws -> [UntagResult] {
        let dangling = try readIndex().manifests.filter(ImageStore.isDangling).filter { entry in
            guard let cutoff = createdBefore else { return true }
            guard let created = (try? image(entry))?.config.created.flatMap(Timestamp.parse) else { return false }
            return created < cutoff
        }.map(\.digest)
        var results: [UntagResult] = []
        for digest in dangling {
            do {
                results.append(try removeEntries(named: digest.description) { $0.digest == digest && ImageStore.isDangling($0) })
            } catch StoreError.imageNotFound {
                continue  // tagged or removed by another process meanwhile
            }
        }
        return results
    }
}
