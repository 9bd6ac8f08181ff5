/// What went wrong copying content, naming the blob: one line each.
public enum ContentError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The bytes a source handed out hash to something else.
    case digestMismatch(Digest, actual: Digest)
    /// The source's bytes are not as many as the descriptor says.
    case sizeMismatch(Digest, expected: Int64, actual: Int64)
    /// The destination acknowledged the blob but holds a different size (a truncated upload).
    case incomplete(Digest, expected: Int64, stored: Int64?)
    /// A manifest or index of a media type the copier does not walk.
    case unsupportedMediaType(String, Digest)
    /// A manifest or index whose JSON cannot be read.
    case malformed(Digest, reason: String)
    /// A blob the source does not have.
    case notFound(Digest)

    public var description: String {
        switch self {
        case .digestMismatch(let digest, let actual):
            return "blob \(digest): the source's content hashes to \(actual)"
        case .sizeMismatch(let digest, let expected, let actual):
            return "blob \(digest): the source has \(actual) bytes, the descriptor says \(expected)"
        case .incomplete(let digest, let expected, let stored):
            return "blob \(digest): the destination stored \(stored.map { "\($0)" } ?? "no") bytes of \(expected)"
        case .unsupportedMediaType(let mediaType, let digest):
            return "\(digest): unsupported media type \(mediaType)"
        case .malformed(let digest, let reason):
            return "\(digest): not a readable manifest or index: \(reason)"
        case .notFound(let digest):
            return "blob \(digest): not in the source"
        }
    }
}
