/// Media types of the OCI image spec and Docker's image manifest v2 schema 2.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"

    /// OCI 1.1's empty descriptor content `{}`: the config of an artifact manifest.
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    /// An SPDX document in its JSON serialisation (artifact type and layer of an SBOM).
    public static let spdxJSON = "application/spdx+json"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// True for manifest media types (single-platform images), OCI or Docker.
    public static func isManifest(_ type: String?) -> Bool {
        type == ociManifest || type == dockerManifest
    }

    /// True for index media types (multi-platform lists), OCI or Docker.
    public static func isIndex(_ type: String?) -> Bool {
        type == ociIndex || type == dockerManifestList
    }
}

/// Which family of media types an image is written with.
public enum ImageFormat: String, Sendable, CaseIterable, Codable {
    case oci
    case docker

    public var manifestMediaType: String { self == .oci ? MediaType.ociManifest : MediaType.dockerManifest }
    public var configMediaType: String { self == .oci ? MediaType.ociConfig : MediaType.dockerConfig }
    public var gzipLayerMediaType: String { self == .oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip }

    /// Maps a layer media type into this format, keeping its compression.
    public func layerMediaType(converting type: String) -> String {
        switch (self, type) {
        case (.docker, MediaType.ociLayerGzip): return MediaType.dockerLayerGzip
        case (.oci, MediaType.dockerLayerGzip): return MediaType.ociLayerGzip
        default: return type
        }
    }
}
