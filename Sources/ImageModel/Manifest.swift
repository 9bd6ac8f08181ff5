/// An image manifest (OCI image manifest or Docker v2 schema 2): a config and an ordered list of layers.
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?
    /// OCI 1.1: what an artifact manifest holds (an SBOM, a signature); nil for images.
    public var artifactType: String?
    /// OCI 1.1: the manifest an artifact is about (its referrers API lists it under that digest).
    public var subject: Descriptor?

    public init(mediaType: String?, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil,
                artifactType: String? = nil, subject: Descriptor? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
        self.artifactType = artifactType
        self.subject = subject
    }

    /// The reference of the image a build started FROM (OCI annotation, set by buildah and BuildKit).
    public static let baseNameAnnotation = "org.opencontainers.image.base.name"
    /// The manifest digest of that base image.
    public static let baseDigestAnnotation = "org.opencontainers.image.base.digest"
}

/// An image index (OCI index or Docker manifest list): descriptors of manifests, one per platform.
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String?, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}
