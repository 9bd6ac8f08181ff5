import Foundation
import ImageModel

/// Why writing, reading or unpacking a layer failed. Every message is one line naming the path.
public enum LayerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A source file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// A source file's size differs from the size recorded when the layer was planned.
    case sizeChanged(path: String, expected: Int64, actual: Int64)
    /// libarchive reported an error while reading or writing `path`.
    case archive(path: String, message: String)
    /// The output could not be created or written.
    case writeFailed(path: String, reason: String)
    /// An archive entry would land outside its destination (`..` component).
    case unsafeEntry(archive: String, entry: String)
    /// A blob's bytes do not hash to the digest it is stored under.
    case digestMismatch(path: String, expected: Digest, actual: Digest)
    /// The compressor failed (should not happen; indicates a library problem).
    case compression(path: String, message: String)
    /// A symlink target libarchive drops (a pax `linkpath` that is not UTF-8) can be recovered
    /// only by reading the entry's headers again, which a stream cannot: read it from a file.
    case linkNeedsRereading(archive: String, entry: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .sizeChanged(let path, let expected, let actual):
            return "\(path) changed size while being read (expected \(expected) bytes, found \(actual))"
        case .archive(let path, let message):
            return "archive error in \(path): \(Self.oneLine(message))"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .unsafeEntry(let archive, let entry):
            return "archive \(archive) contains unsafe entry \"\(entry)\" (escapes its destination)"
        case .digestMismatch(let path, let expected, let actual):
            return "\(path) does not match its digest \(expected) (its bytes hash to \(actual))"
        case .compression(let path, let message):
            return "compression failed while writing \(path): \(message)"
        case .linkNeedsRereading(let archive, let entry):
            return "\(archive): entry \"\(entry)\": its symlink target can only be read from a stored copy of the layer"
        }
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    private static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
