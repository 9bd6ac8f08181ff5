import Foundation

/// A Google API error as every Google REST API answers it (AIP-193):
/// `{"error": {"code": 409, "message": "…", "status": "ALREADY_EXISTS"}}`.
public struct GoogleError: Error, Sendable, Equatable {
    /// The HTTP status code (also the body's `code`).
    public var code: Int
    /// The canonical `google.rpc.Code` name, e.g. `NOT_FOUND`.
    public var status: String
    public var message: String

    public init(code: Int, status: String, message: String) {
        self.code = code
        self.status = status
        self.message = message
    }

    /// The JSON body.
    public var body: JSONValue {
        ["error": ["code": .integer(code), "message": .string(message), "status": .string(status)]]
    }

    /// `{"code": <google.rpc.Code number>, "message"}`: the `google.rpc.Status` a failed job or
    /// operation carries.
    public var rpcStatus: JSONValue {
        ["code": .integer(Self.rpcCodes[status] ?? 2), "message": .string(message)]
    }

    /// google.rpc.Code numbers by name.
    public static let rpcCodes: [String: Int] = [
        "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
        "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9,
        "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14,
        "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
    ]

    static func invalidArgument(_ message: String) -> GoogleError {
        GoogleError(code: 400, status: "INVALID_ARGUMENT", message: message)
    }

    static func failedPrecondition(_ message: String) -> GoogleError {
        GoogleError(code: 400, status: "FAILED_PRECONDITION", message: message)
    }

    static func notFound(_ message: String) -> GoogleError {
        GoogleError(code: 404, status: "NOT_FOUND", message: message)
    }

    static func alreadyExists(_ message: String) -> GoogleError {
        GoogleError(code: 409, status: "ALREADY_EXISTS", message: message)
    }

    /// Google's answer to a missing, unknown or expired access token.
    static let unauthenticated = GoogleError(
        code: 401, status: "UNAUTHENTICATED",
        message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
            + "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
}
