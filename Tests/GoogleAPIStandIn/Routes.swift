import Foundation

/// A request as the endpoints see it: already read, whether it came over HTTP or from a Cloud
/// Scheduler job's HTTP target.
struct IncomingRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    /// By lowercased name.
    var headers: [String: String]
    var body: Data
    var fromScheduler = false

    /// The Bearer token of `Authorization`, if any.
    var bearerToken: String? {
        guard let value = headers["authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}

/// What the stand-in answers: a status and a JSON body.
struct APIResponse: Sendable {
    var status: Int
    var body: JSONValue

    static func ok(_ body: JSONValue) -> APIResponse { APIResponse(status: 200, body: body) }

    static func error(_ error: GoogleError) -> APIResponse { APIResponse(status: error.code, body: error.body) }
}

/// A resource path of the three APIs: `/{version}/projects/{P}/locations/{L}/{collection}[/{id}[:{verb}]]`.
///
/// - `v1 … customJobs` is Vertex AI (aiplatform), `v1 … jobs` Cloud Scheduler, `v2 … instances`
///   and `v2 … operations` Notebooks (Workbench).
struct ResourcePath: Sendable, Equatable {
    var version: String
    var project: String
    var location: String
    var collection: String
    var id: String?
    var verb: String?

    init?(_ path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard parts.count == 6 || parts.count == 7, parts[1] == "projects", parts[3] == "locations",
              !parts[2].isEmpty, !parts[4].isEmpty, !parts[5].isEmpty else { return nil }
        version = parts[0]
        project = parts[2]
        location = parts[4]
        collection = parts[5]
        if parts.count == 7 {
            let last = parts[6].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard !last[0].isEmpty else { return nil }
            id = last[0]
            verb = last.count > 1 ? last[1] : nil
        }
    }

    /// `projects/{P}/locations/{L}`.
    var parent: String { "projects/\(project)/locations/\(location)" }

    /// `projects/{P}/locations/{L}/{collection}/{id}`.
    var name: String { "\(parent)/\(collection)/\(id ?? "")" }

    /// The API's real host, which a Cloud Scheduler HTTP target must name.
    var host: String? {
        switch (version, collection) {
        case ("v1", "customJobs"): return "\(location)-aiplatform.googleapis.com"
        case ("v1", "jobs"): return "cloudscheduler.googleapis.com"
        case ("v2", "instances"), ("v2", "operations"): return "notebooks.googleapis.com"
        default: return nil
        }
    }

    /// The discovery document and schema (or method id) a request body of `method` is checked
    /// against; nil for methods without a body.
    func requestSchema(method: String) -> (document: String, schema: String)? {
        guard method == "POST" else { return nil }
        switch (version, collection, id == nil, verb) {
        case ("v1", "customJobs", true, nil): return ("aiplatform.v1.customjob.json", "CustomJob")
        case ("v1", "customJobs", false, "cancel"):
            return ("aiplatform.v1.customjob.json", "aiplatform.projects.locations.customJobs.cancel")
        case ("v2", "instances", true, nil): return ("notebooks.v2.json", "Instance")
        case ("v2", "instances", false, "start"): return ("notebooks.v2.json", "notebooks.projects.locations.instances.start")
        case ("v2", "instances", false, "stop"): return ("notebooks.v2.json", "notebooks.projects.locations.instances.stop")
        case ("v1", "jobs", true, nil): return ("cloudscheduler.v1.json", "Job")
        case ("v1", "jobs", false, "run"): return ("cloudscheduler.v1.json", "cloudscheduler.projects.locations.jobs.run")
        case ("v1", "jobs", false, "pause"): return ("cloudscheduler.v1.json", "cloudscheduler.projects.locations.jobs.pause")
        case ("v1", "jobs", false, "resume"): return ("cloudscheduler.v1.json", "cloudscheduler.projects.locations.jobs.resume")
        default: return nil
        }
    }
}

/// Location shapes: regions (`europe-west3`) for Vertex AI and Cloud Scheduler, zones
/// (`us-central1-b`) for Workbench instances.
enum LocationShape {
    static func isRegion(_ location: String) -> Bool {
        location.range(of: #"^[a-z]+-[a-z]+[0-9]+$"#, options: .regularExpression) != nil
    }

    static func isZone(_ location: String) -> Bool {
        location.range(of: #"^[a-z]+-[a-z]+[0-9]+-[a-z]$"#, options: .regularExpression) != nil
    }
}

/// RFC 3339 UTC timestamps with fractional seconds, as Google writes them.
enum Timestamp {
    static func now() -> JSONValue {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .string(formatter.string(from: Date()))
    }
}
