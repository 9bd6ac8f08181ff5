/// An error that says whether trying the same thing again can help: a registry's 5xx, a
/// dropped connection or an expired token can; a refused credential or a wrong digest cannot.
/// `ImagePusher` retries a blob only when some error in the cause chain says so.
public protocol RetryableError: Error {
    var isRetryable: Bool { get }
}

/// What went wrong copying content, naming the blob: one line each.
public enum ContentError: Error, CustomStringConvertible, Sendable, Equatable, RetryableError {
    /// The bytes a source handed out hash to something else.
    case digestMismatch(Digest, actual: Digest)
    /// The source's bytes are not as many as the descriptor says.
    case sizeMismatch(Digest, expected: Int64, actual: Int64)
    /// The destination acknowledged the blob but holds a different size (a truncated upload).
    case incomplete(Digest, expected: Int64, stored: Int64?)
    /// A manifest or index of a media type the pusher does not walk.
    case unsupportedMediaType(String, Digest)
    /// A manifest or index whose JSON cannot be read.
    case malformed(Digest, reason: String)
    /// A blob the source does not have.
    case notFound(Digest)
    /// A manifest or index larger than any registry accepts, refused before it is read.
    case tooLarge(Digest, size: Int64, limit: Int64)

    /// A truncating destination may keep the whole blob next time; nothing else here changes
    /// by asking again.
    public var isRetryable: Bool {
        if case .incomplete = self { return true }
        return false
    }

    /// The source handed out wrong bytes (as opposed to the destination losing some).
    var isSourceFault: Bool {
        switch self {
        case .digestMismatch, .sizeMismatch: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .digestMismatch(let digest, let actual):
            return "blob \(digest): the source's content hashes to \(actual), not to its digest; not used"
        case .sizeMismatch(let digest, let expected, let actual):
            return "blob \(digest): the source has \(actual) bytes, the descriptor says \(expected); not used"
        case .incomplete(let digest, let expected, let stored):
            return "blob \(digest): the destination stored \(stored.map { "\($0)" } ?? "no") bytes of \(expected)"
        case .unsupportedMediaType(let mediaType, let digest):
            return "\(digest): unsupported media type \(mediaType)"
        case .malformed(let digest, let reason):
            return "\(digest): not a readable manifest or index: \(reason)"
        case .notFound(let digest):
            return "blob \(digest): not in the source"
        case .tooLarge(let digest, let size, let limit):
            return "\(digest): a manifest of \(size) bytes, more than the \(limit) any registry accepts"
        }
    }
}
