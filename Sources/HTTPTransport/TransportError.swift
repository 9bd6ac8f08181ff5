import Foundation

/// What the transport layers throw; each case keeps the URL it concerns and its cause, so a
/// caller decides by case — never by message — what a failure was (`RegistryClient` turns
/// them into `RegistryError`s, `Vertex` into `VertexError`s, both keeping this as the cause).
public enum TransportError: Error, CustomStringConvertible {
    /// The exchange failed below HTTP (refused, reset, timed out, TLS, truncated).
    case unreachable(url: String, cause: Error)
    /// The server asked to wait longer than the transport ever waits.
    case retryAfterTooLong(url: String, status: Int, seconds: TimeInterval, limit: TimeInterval)
    /// More than `RedirectLayer.limit` redirects in a row.
    case tooManyRedirects(url: String, status: Int)
    /// Not an `http`/`https` URL (a registry's `Location` may name anything, even `http+unix:`).
    case unsupportedURL(url: String)
    /// A resumed download could not be picked up where it broke off.
    case resumeFailed(url: String, reason: String)
    /// The answer's head came but its body could not be read (cut short, too large).
    case unreadableAnswer(url: String, cause: Error)
    /// A file to be sent as a request body could not be read.
    case unreadableFile(path: String, reason: String)

    /// The URL without its query (which may hold upload state or signed-URL secrets).
    public static func display(_ url: String) -> String {
        String(url.split(separator: "?", maxSplits: 1).first ?? "")
    }

    public var description: String {
        switch self {
        case .unreachable(let url, let cause):
            return "cannot reach \(Self.display(url)): \(TransientErrors.describe(cause))"
        case .retryAfterTooLong(let url, let status, let seconds, let limit):
            return "\(Self.display(url)) answered HTTP \(status) asking to retry after \(Int(seconds)) s, "
                + "longer than the \(Int(limit)) s swiftdock waits; try again later"
        case .tooManyRedirects(let url, _):
            return "too many redirects (last to \(Self.display(url)))"
        case .unsupportedURL(let url):
            return "refusing to send a request to \(Self.display(url)): only http and https URLs are followed"
        case .resumeFailed(let url, let reason):
            return "download from \(Self.display(url)) broke off and cannot be resumed: \(reason)"
        case .unreadableAnswer(let url, let cause):
            return "cannot read the answer of \(Self.display(url)): \(TransientErrors.describe(cause))"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read for upload: \(reason)"
        }
    }
}
