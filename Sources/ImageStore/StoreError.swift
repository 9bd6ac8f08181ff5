import ImageModel

/// Failures of the local store; each names what and where.
public enum StoreError: Error, CustomStringConvertible {
    case imageNotFound(String)
    case blobNotFound(Digest)
    case corrupt(path: String, reason: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .imageNotFound(let ref): return "image not found in local store: \(ref)"
        case .blobNotFound(let d): return "blob \(d) is missing from the local store"
        case .corrupt(let path, let reason): return "local store is corrupt at \(path): \(reason)"
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }
}
