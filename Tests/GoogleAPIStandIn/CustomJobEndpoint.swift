import Foundation

/// A CustomJob and where it is in its progression.
struct StoredCustomJob: Sendable {
    var resource: JSONValue
    var progression: CustomJobProgression
    var position = 0
    var cancelling = false

    static let terminalStates: Set<String> = [
        "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED", "JOB_STATE_PARTIALLY_SUCCEEDED",
    ]

    var state: String { resource["state"]?.stringValue ?? "" }

    var isTerminal: Bool { Self.terminalStates.contains(state) }

    /// One GET's worth of progress: the next state, or CANCELLED after a cancel; an ended job stays.
    mutating func advance() {
        if isTerminal { return }
        if cancelling {
            cancelling = false
            enter("JOB_STATE_CANCELLED", error: GoogleError(code: 499, status: "CANCELLED", message: "CANCELED").rpcStatus)
        } else if position < progression.states.count - 1 {
            position += 1
            enter(progression.states[position])
        }
    }

    /// Sets `state` and the times that go with it; a FAILED job gets the progression's error.
    mutating func enter(_ state: String, error: JSONValue? = nil) {
        let now = Timestamp.now()
        resource["state"] = .string(state)
        resource["updateTime"] = now
        if state == "JOB_STATE_RUNNING", resource["startTime"] == nil { resource["startTime"] = now }
        if Self.terminalStates.contains(state) { resource["endTime"] = now }
        if let error {
            resource["error"] = error
        } else if state == "JOB_STATE_FAILED" {
            resource["error"] = ["code": .integer(progression.errorCode), "message": .string(progression.errorMessage)]
        }
    }
}

/// Vertex AI CustomJobs (aiplatform v1), on a region:
///
/// - `POST /v1/projects/P/locations/R/customJobs` (body `CustomJob`) → the job with `name`
///   (`projects/NUMBER/locations/R/customJobs/ID`, numeric id), `state` (the progression's first),
///   `createTime`, `updateTime`;
/// - `GET …/customJobs/ID` → the job, advanced one state per GET (`StandInKnobs.customJobProgression`),
///   each new state logged as `CustomJob entered STATE.` in the job's Cloud Logging log;
/// - `POST …/customJobs/ID:cancel` → `{}`; the job is CANCELLING, then CANCELLED with
///   `error {code 1}` at the next GET (400 FAILED_PRECONDITION when it has already ended);
/// - `GET …/customJobs[?filter=…&pageSize=…&pageToken=…]` → `{"customJobs": […], "nextPageToken"}`
///   (`{}` when there are none); filters as `Listing.matches` reads them (`labels.KEY="VALUE"`, `state=…`).
extension StandInServer {
    func customJobs(_ request: IncomingRequest, _ resource: ResourcePath, _ body: JSONValue?) throws -> APIResponse {
        guard LocationShape.isRegion(resource.location) else {
            throw GoogleError.invalidArgument("Location \(resource.location) is not a region (e.g. europe-west3).")
        }
        switch (request.method, resource.id, resource.verb) {
        case ("POST", nil, nil):
            return .ok(createCustomJob(body ?? [:], resource))
        case ("GET", nil, nil):
            let prefix = "\(projectID(resource.project))/\(resource.location)/"
            let filter = request.query["filter"] ?? ""
            let jobs = try customJobOrder.filter { $0.hasPrefix(prefix) }.compactMap { customJobs[$0]?.resource }
                .filter { try Listing.matches($0, filter: filter) }
            return .ok(try Listing.page(jobs, key: "customJobs", query: request.query, defaultPageSize: knobs.listPageSize))
        case ("GET", .some, nil):
            let key = try customJobKey(resource)
            let before = customJobs[key]!.state
            customJobs[key]?.advance()
            if customJobs[key]!.state != before {
                // As Vertex AI's service lines in the job's log; tests add the program's own.
                appendLogEntry(project: projectID(resource.project), jobID: resource.id!, text: "CustomJob entered \(customJobs[key]!.state).")
            }
            return .ok(customJobs[key]!.resource)
        case ("POST", .some, "cancel"):
            let key = try customJobKey(resource)
            guard !customJobs[key]!.isTerminal else {
                throw GoogleError.failedPrecondition("Cannot cancel CustomJob \(resource.id!) in state \(customJobs[key]!.state).")
            }
            if customJobs[key]!.state != "JOB_STATE_CANCELLING" {
                customJobs[key]!.enter("JOB_STATE_CANCELLING")
                customJobs[key]!.cancelling = true
            }
            return .ok([:])
        default:
            throw Self.noRoute(request)
        }
    }

    /// The CustomJobs created so far, as they stand now, in creation order.
    public var storedCustomJobs: [JSONValue] { customJobOrder.compactMap { customJobs[$0]?.resource } }

    private func createCustomJob(_ body: JSONValue, _ resource: ResourcePath) -> JSONValue {
        let id = String(UInt64.random(in: 1_000_000_000_000_000_000...9_000_000_000_000_000_000))
        let project = knobs.useProjectNumbers ? projectNumber(resource.project) : projectID(resource.project)
        var job = StoredCustomJob(resource: body, progression: knobs.customJobProgression)
        job.resource["name"] = .string("projects/\(project)/locations/\(resource.location)/customJobs/\(id)")
        job.resource["createTime"] = Timestamp.now()
        job.enter(job.progression.states[0])
        let key = "\(projectID(resource.project))/\(resource.location)/\(id)"
        customJobs[key] = job
        customJobOrder.append(key)
        return job.resource
    }

    private func customJobKey(_ resource: ResourcePath) throws -> String {
        let key = "\(projectID(resource.project))/\(resource.location)/\(resource.id ?? "")"
        guard customJobs[key] != nil else {
            throw GoogleError.notFound("The CustomJob does not exist: \(resource.name)")
        }
        return key
    }

    /// A stable 12-digit number for a project id, as Google's project numbers look.
    func projectNumber(_ project: String) -> String {
        if project.allSatisfy(\.isNumber) { return project }
        if let known = projectNumbers[project] { return known }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in project.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let number = String(100_000_000_000 + hash % 900_000_000_000)
        projectNumbers[project] = number
        return number
    }

    /// The project id for an id or a number handed out by `projectNumber(_:)`.
    func projectID(_ project: String) -> String {
        projectNumbers.first { $0.value == project }?.key ?? project
    }
}
