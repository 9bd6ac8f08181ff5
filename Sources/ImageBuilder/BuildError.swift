import DockerfileSyntax
import ImageModel

/// A build failure: one line naming what went wrong and where (Dockerfile file:line and
/// instruction where there is one), and the error underneath it, so a caller can still tell
/// a registry's "unauthorized" from "not found" under FROM (`error.cause(as: RegistryError.self)`).
public struct BuildError: CausedError, CustomStringConvertible, Sendable {
    public var location: SourceLocation?
    public var instruction: String?
    public var message: String
    public var underlying: (any Error)?

    public init(_ message: String, at location: SourceLocation? = nil, instruction: String? = nil,
                underlying: (any Error)? = nil) {
        self.location = location
        self.instruction = instruction
        self.message = message
        self.underlying = underlying
    }

    /// Wraps any error raised while handling `instruction`, keeping a DockerfileError as it is
    /// and any other error as the cause (its text becomes the message).
    static func wrap(_ error: Error, at location: SourceLocation, instruction: String) -> Error {
        if error is DockerfileError { return error }
        if var buildError = error as? BuildError {
            if buildError.location == nil {
                buildError.location = location
                buildError.instruction = instruction
            }
            return buildError
        }
        return BuildError(String(describing: error), at: location, instruction: instruction, underlying: error)
    }

    public var description: String {
        var prefix = ""
        if let location { prefix += "\(location): " }
        if let instruction { prefix += "\(instruction): " }
        return prefix + message
    }
}
