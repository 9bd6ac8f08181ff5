import ImageModel
import Sandbox

/// `run` (and `vertex run --local`) failed before the container's command ran: the image could
/// not be found or prepared, the process not resolved, the sandbox not set up, or the command
/// not executed. Keeps the cause, so the exit code can tell them apart (`ExitCode32.kind`).
struct ContainerStartFailure: CausedError, CustomStringConvertible {
    var cause: any Error
    var underlying: (any Error)? { cause }
    var description: String {
        if let sandbox = cause as? SandboxError { return sandbox.message }
        return String(describing: cause)
    }
}
