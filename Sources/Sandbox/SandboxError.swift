/// One line: what failed (which syscall, which path) and the errno text.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The helper's exit status when it reported the failure: 127 when the command was not
    /// found, 126 when it could not be executed (docker's codes), 125 for the sandbox's own
    /// failures; nil when the helper could not be started.
    public var status: Int32?
    public init(_ message: String, status: Int32? = nil) {
        self.message = message
        self.status = status
    }
    public var description: String { message }
}
