import Foundation
import ImageModel

/// One image of a docker-save archive (`docker-archive:`): its names, config and layers.
///
/// The archive is what `docker save` (≥ 25) writes: an OCI image layout (`oci-layout`,
/// `index.json`, `blobs/sha256/…`) plus Docker's `manifest.json` and `repositories` pointing
/// into `blobs/`, so `docker load`, skopeo's `docker-archive:` and `oci-archive:` all read it.
/// Layers keep their stored (compressed) form: docker load and skopeo decompress them, and the
/// manifest digests stay the image's own.
struct DockerArchiveImage {
    var reference: Reference?
    var config: Digest
    var layers: [Digest]

    /// One `manifest.json` entry.
    struct ManifestEntry: Codable {
        var config: String
        var repoTags: [String]?
        var layers: [String]
        enum CodingKeys: String, CodingKey {
            case config = "Config", repoTags = "RepoTags", layers = "Layers"
        }
    }

    /// Writes the archive to `output` (a temporary file beside it, renamed into place; an
    /// existing file is replaced, as `docker save -o` does). `blobs` are every blob to include,
    /// read from `blobPath` and checked against their digests on the way.
    static func write(_ images: [DockerArchiveImage], index: ImageIndex, blobs: [Digest],
                      blobPath: (Digest) -> String, to output: String) throws {
        // manifest.json: one entry per image, carrying all its tags.
        var entries: [ManifestEntry] = []
        var entryForConfig: [Digest: Int] = [:]
        var repositories: [String: [String: String]] = [:]
        for image in images {
            let position: Int
            if let known = entryForConfig[image.config] {
                position = known
            } else {
                position = entries.count
                entryForConfig[image.config] = position
                entries.append(ManifestEntry(config: "blobs/sha256/\(image.config.encoded)", repoTags: [],
                                             layers: image.layers.map { "blobs/sha256/\($0.encoded)" }))
            }
            if let reference = image.reference, let tag = reference.tag {
                let familiar = "\(reference.familiarRepository):\(tag)"
                if entries[position].repoTags?.contains(familiar) == false { entries[position].repoTags?.append(familiar) }
                if let top = image.layers.last { repositories[reference.familiarRepository, default: [:]][tag] = top.encoded }
            }
        }

        var trailer = [("manifest.json", Array(try CanonicalJSON.encode(entries))), LayoutArchive.layoutFile]
        if !repositories.isEmpty { trailer.append(("repositories", Array(try CanonicalJSON.encode(repositories)))) }
        try LayoutArchive.write(index: index, blobs: blobs, blobPath: blobPath, trailer: trailer, to: output)
    }
}
