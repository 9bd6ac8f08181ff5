import ImageModel

/// A failure of a `vertex` command: one line saying what went wrong and where, never
/// carrying credentials; the transport or credential error underneath is kept.
public struct VertexError: CausedError, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The command line asked for something impossible; no request was made.
        case usage
        /// No Google credentials, or they were refused.
        case credentials
        /// Google answered with an error (`{"error": {"code", "message", "status"}}`).
        case api
        /// The request never got an answer.
        case transport
        /// The job or operation ended badly.
        case failed
    }

    public var kind: Kind
    public var message: String
    /// For `.api` errors: the HTTP status and Google's status name (`ALREADY_EXISTS`).
    public var httpStatus: Int?
    public var googleStatus: String?
    public var underlying: (any Error)?

    public init(_ kind: Kind, _ message: String, httpStatus: Int? = nil, googleStatus: String? = nil,
                underlying: (any Error)? = nil) {
        self.underlying = underlying
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
        self.googleStatus = googleStatus
    }

    public var description: String { message }

    /// Equal when they say the same thing; the cause is not compared (errors are not Equatable).
    public static func == (lhs: VertexError, rhs: VertexError) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message && lhs.httpStatus == rhs.httpStatus
            && lhs.googleStatus == rhs.googleStatus
    }
}
