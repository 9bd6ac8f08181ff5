import Foundation

/// One request the stand-in received, in arrival order (`StandInServer.requests`).
public struct RecordedRequest: Sendable {
    public var method: String
    /// The path without the query, e.g. `/v1/projects/p/locations/us-central1/customJobs`.
    public var path: String
    /// Query parameters, percent-decoded (the last value of a repeated name wins).
    public var query: [String: String]
    /// Header fields by lowercased name; repeated fields are joined with ", ".
    public var headers: [String: String]
    public var body: Data
    /// The body parsed as JSON; nil when empty or not JSON (a `/token` form, say).
    public var json: JSONValue?
    /// The status the stand-in answered with; 0 while the request is being handled.
    public var responseStatus: Int
    /// True when the request was made by the stand-in itself: a Cloud Scheduler job's HTTP target.
    public var fromScheduler: Bool
    /// 1 for the first request the stand-in received, 2 for the next… (not reset by `clearRecords()`).
    public var number: Int

    /// The form fields, for `application/x-www-form-urlencoded` bodies.
    public var form: [String: String] { FormEncoding.decode(String(decoding: body, as: UTF8.self)) }
}

/// A request body the schema check refused (`StandInServer.schemaFailures`).
public struct SchemaFailure: Sendable, Equatable {
    public var method: String
    public var path: String
    /// The discovery document and schema (or method id) checked against, e.g. `notebooks.v2.json Instance`.
    public var schema: String
    /// The validator's first `ERROR` (or, under `--strict`, `WARN`) line.
    public var message: String
    /// Everything the validator printed.
    public var output: String
}

/// What a Cloud Scheduler job's `:run` did with its HTTP target (`StandInServer.scheduledRuns`).
public struct ScheduledRun: Sendable {
    /// The Scheduler job's full name.
    public var jobName: String
    /// `httpTarget.uri`, `httpTarget.httpMethod` (default POST) and headers as the job gives them.
    public var uri: String
    public var httpMethod: String
    public var headers: [String: String]
    /// The base64-decoded `httpTarget.body`, parsed as JSON when it is.
    public var body: JSONValue?
    /// The status the stand-in answered the target with, and its answer (for a CustomJob target: the
    /// created job). Status 0 means the target was not performed; `note` says why.
    public var responseStatus: Int
    public var response: JSONValue?
    public var note: String?
}
