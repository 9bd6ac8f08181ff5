/// Why a process could not be worked out from an image's config and the overrides given;
/// one line each, in docker's words where docker has some.
public enum ProcessModelError: Error, CustomStringConvertible, Sendable, Hashable {
    /// Neither the overrides nor the image name a command.
    case noCommand
    /// The working directory (given or the image's) is not an absolute path.
    case relativeWorkingDirectory(String)
    /// An environment entry with no name (`=V`).
    case invalidEnvironment(String)

    public var description: String {
        switch self {
        case .noCommand: return "no command specified: the image has no CMD or ENTRYPOINT"
        case .relativeWorkingDirectory(let dir): return "the working directory '\(dir)' is invalid, it needs to be an absolute path"
        case .invalidEnvironment(let entry): return "invalid environment variable: \(entry)"
        }
    }
}
