import DockerfileSyntax

/// A build failure: one line naming what went wrong and where (Dockerfile file:line and
/// instruction where there is one).
public struct BuildError: Error, CustomStringConvertible, Sendable {
    public var location: SourceLocation?
    public var instruction: String?
    public var message: String

    public init(_ message: String, at location: SourceLocation? = nil, instruction: String? = nil) {
        self.location = location
        self.instruction = instruction
        self.message = message
    }

    /// Wraps any error raised while handling `instruction`, keeping a DockerfileError as it is.
    static func wrap(_ error: Error, at location: SourceLocation, instruction: String) -> Error {
        if error is DockerfileError { return error }
        if var buildError = error as? BuildError {
            if buildError.location == nil {
                buildError.location = location
                buildError.instruction = instruction
            }
            return buildError
        }
        return BuildError(String(describing: error), at: location, instruction: instruction)
    }

    public var description: String {
        var prefix = ""
        if let location { prefix += "\(location): " }
        if let instruction { prefix += "\(instruction): " }
        return prefix + message
    }
}
