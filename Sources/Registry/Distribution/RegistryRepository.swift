import ImageModel
import ImageStore

/// A repository on a registry (`127.0.0.1:5000` + `team/app`): where blobs and manifests live,
/// and the API paths that reach them.
public struct RegistryRepository: Hashable, Sendable, CustomStringConvertible {
    /// The registry as references name it (`docker.io`, `127.0.0.1:5000`).
    public var registry: String
    /// The repository path (`library/alpine`).
    public var name: String

    public init(registry: String, name: String) {
        self.registry = registry
        self.name = name
    }

    /// The repository a reference names.
    public init(_ reference: Reference) {
        self.init(registry: reference.domain, name: reference.path)
    }

    /// The repository a store's remote-source record names.
    public init(_ source: RemoteSource) {
        self.init(registry: source.registry, name: source.repository)
    }

    /// The record the store keeps for blobs that live here.
    public var remoteSource: RemoteSource { RemoteSource(registry: registry, repository: name) }

    /// `registry/name`, as errors and progress lines show it.
    public var description: String { "\(registry)/\(name)" }

    /// `pull` scope for this repository.
    var pullScopes: [AuthScope] { [.pull(name)] }
    /// `push,pull` scope for this repository.
    var pushScopes: [AuthScope] { [.push(name)] }

    /// `/v2/<name>/blobs/<digest>`
    func blobPath(_ digest: Digest) -> String { "/v2/\(name)/blobs/\(digest)" }
    /// `/v2/<name>/manifests/<tag or digest>`
    func manifestPath(_ reference: String) -> String { "/v2/\(name)/manifests/\(reference)" }
    /// `/v2/<name>/blobs/uploads/`
    var uploadsPath: String { "/v2/\(name)/blobs/uploads/" }

    /// A `RegistryError` located in this repository.
    func error(_ kind: RegistryError.Kind, status: Int? = nil, _ message: String, underlying: (any Error)? = nil) -> RegistryError {
        RegistryError(kind, registry: registry, repository: name, status: status, message, underlying: underlying)
    }
}
