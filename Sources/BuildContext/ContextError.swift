import PathEncoding

/// Errors raised while reading a build context, its ignore file or resolving COPY/ADD sources.
///
/// Every case renders as a single line that names the offending path or pattern.
public enum ContextError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The context directory does not exist.
    case missingContext(String)
    /// The context path exists but is not a directory.
    case notADirectory(String)
    /// The ignore file could not be read or holds an invalid line (`line` is 1-based when known).
    case badIgnoreFile(path: String, line: Int?, reason: String)
    /// A pattern (ignore rule, `--exclude`, or glob) is malformed.
    case badPattern(String, reason: String)
    /// A source path leaves the context, lexically (`../x`) or through a symlink.
    case outsideContext(String)
    /// A source matched nothing: missing, or removed by `.dockerignore`.
    case notFound(String)
    /// A directory could not be listed or a file could not be inspected / read.
    case unreadable(String, reason: String)

    public var description: String {
        // Names that are not UTF-8 are shown with `\xNN` escapes (see `PathBytes.display`).
        let show = PathBytes.display
        switch self {
        case .missingContext(let path):
            return "unable to prepare context: path \"\(show(path))\" not found"
        case .notADirectory(let path):
            return "unable to prepare context: \"\(show(path))\" is not a directory"
        case .badIgnoreFile(let path, let line, let reason):
            if let line {
                return "invalid ignore file \"\(show(path))\" line \(line): \(reason)"
            }
            return "invalid ignore file \"\(show(path))\": \(reason)"
        case .badPattern(let pattern, let reason):
            return "invalid pattern \"\(show(pattern))\": \(reason)"
        case .outsideContext(let source):
            return "\"\(show(source))\": path is outside of the build context"
        case .notFound(let source):
            return "\"\(show(source))\": not found in build context or excluded by .dockerignore"
        case .unreadable(let path, let reason):
            return "cannot read \"\(show(path))\": \(reason)"
        }
    }
}
