import ImageModel

/// Failures of the local store; each names what and where, on one line.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case imageNotFound(String)
    case blobNotFound(Digest)
    case corrupt(path: String, reason: String)
    case io(path: String, reason: String)
    /// A blob's content does not hash to its name.
    case digestMismatch(path: String, expected: Digest, actual: Digest)
    /// The root exists, is not empty and is not an OCI image layout.
    case notAnImageLayout(path: String, reason: String)
    /// An image ID prefix names more than one image.
    case ambiguousImageID(prefix: String, count: Int)
    /// The reference cannot be used for this operation (e.g. tagging a digest-only reference).
    case invalidReference(String, reason: String)
    /// `save` refuses to replace an existing, non-empty output.
    case outputExists(path: String)
    /// The descriptor's media type is not one the store can use here.
    case unsupportedMediaType(String, digest: Digest)

    public var description: String {
        switch self {
        case .imageNotFound(let ref): return "image not found in local store: \(ref)"
        case .blobNotFound(let d): return "blob \(d) is missing from the local store"
        case .corrupt(let path, let reason): return "local store is corrupt at \(path): \(reason)"
        case .io(let path, let reason): return "\(path): \(reason)"
        case .digestMismatch(let path, let expected, let actual):
            return "blob \(path) is corrupt: expected digest \(expected), content hashes to \(actual)"
        case .notAnImageLayout(let path, let reason):
            return "\(path) is not an OCI image layout: \(reason)"
        case .ambiguousImageID(let prefix, let count):
            return "image ID prefix \(prefix) is ambiguous: it matches \(count) images"
        case .invalidReference(let ref, let reason): return "reference \(ref): \(reason)"
        case .outputExists(let path): return "output \(path) already exists and is not empty"
        case .unsupportedMediaType(let type, let digest): return "unsupported media type \(type) for \(digest)"
        }
    }
}
