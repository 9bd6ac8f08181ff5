import ImageModel
import ImageStore

/// A repository on a registry (`127.0.0.1:5000` + `team/app`): where blobs and manifests live.
/// It is the pair the store records as a blob's `RemoteSource`, so the client takes those
/// records as they are; this extension adds the API paths that reach it.
public typealias RegistryRepository = RemoteSource

extension RegistryRepository {
    /// A repository by its distribution-spec `<name>` (the repository path, `library/alpine`).
    public init(registry: String, name: String) {
        self.init(registry: registry, repository: name)
    }

    /// The repository path, as the distribution spec's `<name>` calls it (`library/alpine`).
    public var name: String { repository }

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
