import Foundation

/// Per-test behaviour of the stand-in; change it with `StandInServer.configure(_:)`.
public struct StandInKnobs: Sendable {
    /// The states a new CustomJob goes through, one per GET (the create answer shows the first).
    public var customJobProgression: CustomJobProgression = .succeeds
    /// How many GETs of a Workbench operation still answer `done: false` before it is done (0: the
    /// first GET finds it done).
    public var operationPendingPolls = 1
    /// The page size of list answers when the request gives no `pageSize`; nil: everything in one page.
    public var listPageSize: Int?
    /// Waited before every answer (the OAuth token endpoint's too).
    public var responseDelay: Duration = .zero
    /// Check every JSON request body with `gcp_validate.py` (and refuse failures with 400).
    public var validateBodies = true
    /// CustomJob names carry the project number (`projects/123456789012/…`), as Google answers;
    /// false keeps the project id. Requests are accepted with either.
    public var useProjectNumbers = true

    public init() {}
}

/// The states a CustomJob takes, and how a failed one ends.
public struct CustomJobProgression: Sendable, Equatable {
    /// `JOB_STATE_…` names; the last one is where the job stays.
    public var states: [String]
    /// The `error` a job ending in `JOB_STATE_FAILED` carries: a `google.rpc.Code` number and message.
    public var errorCode: Int
    public var errorMessage: String

    public init(states: [String], errorCode: Int = 3, errorMessage: String = "The replica workerpool0-0 exited with a non-zero status of 1.") {
        precondition(!states.isEmpty, "a CustomJob progression needs at least one state")
        self.states = states
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }

    /// QUEUED → PENDING → RUNNING → SUCCEEDED.
    public static let succeeds = CustomJobProgression(
        states: ["JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"])

    /// QUEUED → PENDING → RUNNING → FAILED with `error: {"code": code, "message": message}`.
    public static func fails(code: Int = 3, message: String = "The replica workerpool0-0 exited with a non-zero status of 1.")
        -> CustomJobProgression {
        CustomJobProgression(states: ["JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_FAILED"],
                             errorCode: code, errorMessage: message)
    }
}

/// An error the stand-in answers instead of handling a request, to test how callers map errors.
public struct ForcedError: Sendable, Equatable {
    /// The HTTP method to match; nil matches any.
    public var method: String?
    /// The request path (no query) to match; a trailing `*` matches every path with that prefix.
    public var path: String
    public var error: GoogleError
    /// How many more requests get the error; nil: all of them.
    public var remaining: Int?

    public init(method: String? = nil, path: String, error: GoogleError, times: Int? = nil) {
        self.method = method
        self.path = path
        self.error = error
        self.remaining = times
    }

    func matches(method: String, path: String) -> Bool {
        if let expected = self.method, expected != method { return false }
        if remaining == 0 { return false }
        if self.path.hasSuffix("*") { return path.hasPrefix(String(self.path.dropLast())) }
        return self.path == path
    }
}
