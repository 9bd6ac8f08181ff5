import Foundation
import ImageModel
import Layers

/// Finds an image in an unpacked docker archive (`manifest.json`: `Config`, `RepoTags`,
/// `Layers`) and returns it as an OCI layout. When the archive carries its own OCI layout
/// (docker ≥ 25 and `swiftdock save` write one) holding a manifest with exactly that config
/// and those layers, that manifest is the image, so its digest survives a round trip;
/// otherwise one is written for the files as they are.
struct DockerArchiveReader {
    let archive: String
    /// Where the archive was unpacked.
    let staging: String
    /// Where a layout is written when the archive carries none that fits (outside `staging`,
    /// so no archive entry can be there first).
    let synthesized: String

    /// The image and its `RepoTags` (the one asked for first).
    func image(named name: String?) async throws -> (OCILayoutDirectory, Descriptor, [String]) {
        let entries = try ImageArchiveUnpacker.readJSON([DockerArchiveImage.ManifestEntry].self, "manifest.json", in: staging, archive: archive)
        let entry = try choose(name, among: entries)
        let config = try file(entry.config)
        let layers = try entry.layers.map(file)
        let tags = (name.map { [$0] } ?? []) + (entry.repoTags ?? []).filter { $0 != name }
        if let (layout, image) = try await embedded(config: config, layers: layers) { return (layout, image, tags) }
        let (layout, image) = try await synthesize(config: config, layers: layers, name: name)
        return (layout, image, tags)
    }

    /// The entry listing `name` in its RepoTags; the only one when nil.
    private func choose(_ name: String?, among entries: [DockerArchiveImage.ManifestEntry]) throws -> DockerArchiveImage.ManifestEntry {
        guard let name else {
            guard entries.count == 1 else {
                throw ImageArchiveError(archive, "holds \(entries.count) images; name one as docker-archive:\(archive):NAME:TAG")
            }
            return entries[0]
        }
        let wanted = try? Reference(parsing: name)
        for entry in entries {
            for tag in entry.repoTags ?? [] where tag == name || (wanted != nil && (try? Reference(parsing: tag)) == wanted) {
                return entry
            }
        }
        throw ImageArchiveError(archive, "no image tagged \(name) (manifest.json)")
    }

    /// A file `manifest.json` names: inside the archive, regular, with its digest (taken from a
    /// `blobs/sha256/<hex>` name, which the push checks, else hashed) and size.
    private func file(_ name: String) throws -> (path: String, digest: Digest, size: Int64) {
        let normalized: String?
        do {
            normalized = try TarReader.normalize(name, archive: archive)
        } catch {
            throw ImageArchiveError(archive, "manifest.json names \(name.debugDescription), outside the archive")
        }
        guard let clean = normalized else { throw ImageArchiveError(archive, "manifest.json names the archive root as a file") }
        let path = staging + "/" + clean
        guard let status = FileSystem.status(path), (status.st_mode & S_IFMT) == S_IFREG else {
            throw ImageArchiveError(archive, "manifest.json names \(name), which the archive does not hold")
        }
        let parts = clean.split(separator: "/")
        if parts.count == 3, parts[0] == "blobs", parts[1] == "sha256", let digest = try? Digest(parsing: "sha256:\(parts[2])") {
            return (path, digest, Int64(status.st_size))
        }
        let (digest, size) = try SHA256Stream.digestAndSize(ofFile: path)
        return (path, digest, size)
    }

    /// The archive's own OCI manifest for exactly this config and these layers, if it has one.
    private func embedded(config: (path: String, digest: Digest, size: Int64),
                          layers: [(path: String, digest: Digest, size: Int64)]) async throws -> (OCILayoutDirectory, Descriptor)? {
        guard FileSystem.isRegularFile(staging + "/oci-layout"), FileSystem.isRegularFile(staging + "/index.json") else { return nil }
        let index = try ImageArchiveUnpacker.readJSON(ImageIndex.self, "index.json", in: staging, archive: archive)
        let layout = try OCILayoutDirectory(creatingAt: staging)
        for candidate in index.manifests where MediaType.isManifest(candidate.mediaType) && candidate.size <= ImageArchiveUnpacker.maxMetadataSize {
            guard let bytes = try? await layout.read(candidate),
                  let manifest = try? JSONDecoder().decode(ImageManifest.self, from: Data(bytes)) else { continue }
            if manifest.config.digest == config.digest, manifest.layers.map(\.digest) == layers.map(\.digest) {
                return (layout, candidate)
            }
        }
        return nil
    }

    /// An OCI layout in a subdirectory of the staging area: the config and layer files moved in
    /// under their digests, and a manifest for them.
    private func synthesize(config: (path: String, digest: Digest, size: Int64),
                            layers: [(path: String, digest: Digest, size: Int64)], name: String?) async throws -> (OCILayoutDirectory, Descriptor) {
        guard config.size <= ImageArchiveUnpacker.maxMetadataSize else {
            throw ImageArchiveError(archive, "its config is \(config.size) bytes, more than an image config may have")
        }
        let layout = try OCILayoutDirectory(creatingAt: synthesized)
        for blob in [config] + layers where !FileSystem.exists(layout.blobPath(blob.digest)) {
            try FileSystem.rename(blob.path, layout.blobPath(blob.digest))
        }
        let manifest = ImageManifest(
            mediaType: MediaType.ociManifest,
            config: Descriptor(mediaType: MediaType.ociConfig, digest: config.digest, size: config.size),
            layers: try layers.map { Descriptor(mediaType: try Self.layerMediaType(layout.blobPath($0.digest)), digest: $0.digest, size: $0.size) })
        let bytes = Array(try CanonicalJSON.encode(manifest))
        let descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256Stream.digest(of: bytes), size: Int64(bytes.count))
        try await layout.putManifest(bytes, as: descriptor, tag: name ?? "latest")
        return (layout, descriptor)
    }

    /// A layer's media type from its first bytes: gzip, zstd, else a plain tar.
    static func layerMediaType(_ path: String) throws -> String {
        let fd = try FileSystem.open(path, O_RDONLY)
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = try magic.withUnsafeMutableBytes { try FileSystem.read(fd, into: $0, path: path) }
        if n >= 2, magic[0] == 0x1f, magic[1] == 0x8b { return MediaType.ociLayerGzip }
        if n >= 4, magic == [0x28, 0xb5, 0x2f, 0xfd] { return MediaType.ociLayerZstd }
        return MediaType.ociLayer
    }
}
