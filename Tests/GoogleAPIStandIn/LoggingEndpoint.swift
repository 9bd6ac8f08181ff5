import Foundation

/// Cloud Logging v2, `POST /v2/entries:list` (body `ListLogEntriesRequest`, schema-checked) →
/// `{"entries": […], "nextPageToken"}` (`{}` when none match). Entries are the ones a test
/// adds with `appendLogEntry(jobID:…)`, as Vertex AI's `ml_job` resource writes them. The
/// filter must name the job as the console does (`resource.type="ml_job" AND
/// resource.labels.job_id="ID"`), optionally with `AND timestamp>="T"` / `timestamp>"T"`;
/// `orderBy` must be `timestamp asc` (or absent) or `timestamp desc`; `resourceNames` must name
/// the project the job belongs to.
extension StandInServer {
    static let entriesListPath = "/v2/entries:list"

    /// Adds one log line of a CustomJob (by numeric ID), stamped now: `text` as `textPayload`,
    /// or, with `structured`, as `jsonPayload.message`.
    public func appendLogEntry(project: String, jobID: String, text: String, structured: Bool = false, severity: String = "INFO") {
        logSequence += 1
        let digits = String(logSequence)
        var entry: JSONValue = [
            "insertId": .string("stand-in-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits),
            "logName": .string("projects/\(project)/logs/workerpool0-0"),
            "resource": ["type": "ml_job", "labels": ["job_id": .string(jobID), "project_id": .string(project), "task_name": "workerpool0-0"]],
            "severity": .string(severity),
            "timestamp": Timestamp.now(),
        ]
        if structured { entry["jsonPayload"] = ["message": .string(text)] } else { entry["textPayload"] = .string(text) }
        logEntries.append(entry)
    }

    func listLogEntries(_ request: IncomingRequest) async throws -> APIResponse {
        guard request.method == "POST" else { throw Self.noRoute(request) }
        let body = request.body.isEmpty ? Data("{}".utf8) : request.body
        try await checkSchema(body, document: "logging.v2.entries.json", schema: "ListLogEntriesRequest", request: request, context: nil)
        guard let json = JSONValue(data: body) else { throw GoogleError.invalidArgument("Invalid JSON payload received.") }
        let projects = (json["resourceNames"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard !projects.isEmpty, projects.allSatisfy({ $0.hasPrefix("projects/") }) else {
            throw GoogleError.invalidArgument("resourceNames must name at least one project (projects/P).")
        }
        let filter = try LogFilter(json["filter"]?.stringValue ?? "")
        let descending: Bool
        switch json["orderBy"]?.stringValue ?? "timestamp asc" {
        case "timestamp asc", "timestamp": descending = false
        case "timestamp desc": descending = true
        case let other: throw GoogleError.invalidArgument("Unsupported orderBy \(other).")
        }
        let names = Set(projects.map { String($0.dropFirst("projects/".count)) })
        var matching = logEntries.filter { entry in
            guard let project = entry["resource"]?["labels"]?["project_id"]?.stringValue,
                  names.contains(project) || names.contains(projectNumber(project)) else { return false }
            return filter.matches(entry)
        }
        if descending { matching.reverse() }
        var query: [String: String] = [:]
        // Google caps a page below what was asked; `listPageSize` plays that cap here.
        let asked = json["pageSize"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
        if let size = [asked, knobs.listPageSize].compactMap({ $0 }).min() { query["pageSize"] = String(size) }
        if let token = json["pageToken"]?.stringValue { query["pageToken"] = token }
        return .ok(try Listing.page(matching, key: "entries", query: query, defaultPageSize: knobs.listPageSize))
    }
}

/// The filters `vertex logs` sends, read strictly: anything else is a 400, so a changed filter
/// shows up in the tests.
struct LogFilter {
    var jobID: String
    var after: (timestamp: String, inclusive: Bool)?

    init(_ text: String) throws {
        let terms = text.components(separatedBy: " AND ").map { $0.trimmingCharacters(in: .whitespaces) }
        guard terms.count >= 2, terms.count <= 3, terms[0] == "resource.type=\"ml_job\"",
              terms[1].hasPrefix("resource.labels.job_id=\""), terms[1].hasSuffix("\""), terms[1].count > 25 else {
            throw GoogleError.invalidArgument("Unsupported filter: \(text) (the stand-in takes resource.type=\"ml_job\" AND resource.labels.job_id=\"ID\").")
        }
        jobID = String(terms[1].dropFirst(24).dropLast())
        if terms.count == 3 {
            let term = terms[2]
            let inclusive = term.hasPrefix("timestamp>=\"")
            guard inclusive || term.hasPrefix("timestamp>\""), term.hasSuffix("\"") else {
                throw GoogleError.invalidArgument("Unsupported filter term: \(term).")
            }
            after = (String(term.dropFirst(inclusive ? 12 : 11).dropLast()), inclusive)
        }
    }

    /// The stand-in writes every timestamp in one format, so strings compare as times.
    func matches(_ entry: JSONValue) -> Bool {
        guard entry["resource"]?["type"]?.stringValue == "ml_job",
              entry["resource"]?["labels"]?["job_id"]?.stringValue == jobID else { return false }
        guard let after, let timestamp = entry["timestamp"]?.stringValue else { return true }
        return after.inclusive ? timestamp >= after.timestamp : timestamp > after.timestamp
    }
}
