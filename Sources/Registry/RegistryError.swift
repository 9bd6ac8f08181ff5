import ImageModel

/// A registry failure: what, which registry and repository, and the HTTP status when there
/// is one. Never carries credentials.
public struct RegistryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case unauthorized, denied, notFound, invalidResponse, transport, digestMismatch, unsupported, credentials
    }
    public var kind: Kind
    public var registry: String
    public var repository: String?
    public var status: Int?
    public var message: String

    public init(_ kind: Kind, registry: String, repository: String? = nil, status: Int? = nil, _ message: String) {
        self.kind = kind
        self.registry = registry
        self.repository = repository
        self.status = status
        self.message = message
    }

    public var description: String {
        var place = registry
        if let repository { place += "/" + repository }
        if let status { return "\(place): \(message) (HTTP \(status))" }
        return "\(place): \(message)"
    }
}
