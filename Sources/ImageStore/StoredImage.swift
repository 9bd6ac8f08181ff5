import Foundation
import ImageModel

/// One image as stored: its manifest and decoded configuration, with their descriptors.
public struct StoredImage: Hashable, Sendable {
    /// The descriptor the image was resolved through (a manifest; for a tagged index, the
    /// platform manifest chosen from it).
    public var manifestDescriptor: Descriptor
    public var manifest: ImageManifest
    public var config: ImageConfiguration
    public var configDescriptor: Descriptor

    public init(manifestDescriptor: Descriptor, manifest: ImageManifest, config: ImageConfiguration, configDescriptor: Descriptor) {
        self.manifestDescriptor = manifestDescriptor
        self.manifest = manifest
        self.config = config
        self.configDescriptor = configDescriptor
    }

    /// Docker's image ID: the config digest.
    public var imageID: Digest { configDescriptor.digest }
}

/// One row of `images`: a tag (nil for an untagged image) and what it points to.
public struct ImageSummary: Hashable, Sendable {
    public var reference: Reference?
    /// The descriptor recorded for the tag in `index.json`.
    public var manifestDescriptor: Descriptor
    /// Docker's image ID: the config digest.
    public var imageID: Digest
    /// The config's `created` time, when present and readable.
    public var created: Date?
    /// Config size plus the sizes of all layer blobs as stored (compressed).
    public var size: Int64

    public init(reference: Reference?, manifestDescriptor: Descriptor, imageID: Digest, created: Date?, size: Int64) {
        self.reference = reference
        self.manifestDescriptor = manifestDescriptor
        self.imageID = imageID
        self.created = created
        self.size = size
    }
}

/// What `untag` did, as `docker rmi` reports it.
public struct UntagResult: Hashable, Sendable {
    /// The tags removed.
    public var untagged: [Reference]
    /// The image ID (config digest) when the image lost its last tag and was deleted.
    public var deletedImageID: Digest?
    /// Every blob deleted (manifest, config, layers no other tag uses), sorted.
    public var deletedBlobs: [Digest]
    /// The layer blobs among `deletedBlobs`, in manifest order.
    public var deletedLayers: [Digest]

    /// The bytes the deleted blobs took.
    public var deletedBytes: Int64 = 0

    public init(untagged: [Reference], deletedImageID: Digest?, deletedBlobs: [Digest], deletedLayers: [Digest]) {
        self.untagged = untagged
        self.deletedImageID = deletedImageID
        self.deletedBlobs = deletedBlobs
        self.deletedLayers = deletedLayers
    }

    /// The lines `docker rmi` prints: `Untagged: x:latest`, then `Deleted: sha256:<image ID>`
    /// and `Deleted: sha256:<layer>` for each layer removed.
    public var lines: [String] {
        untagged.map { "Untagged: \($0.familiarDescription)" }
            + (deletedImageID.map { ["Deleted: \($0)"] } ?? [])
            + deletedLayers.map { "Deleted: \($0)" }
    }
}
