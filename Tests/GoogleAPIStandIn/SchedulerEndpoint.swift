import Foundation

/// Cloud Scheduler jobs (v1), on a region:
///
/// - `POST /v1/projects/P/locations/R/jobs` (body `Job`) → the Job with `name` (the body's, which
///   must be under P/R, or a generated one), `state: ENABLED`, `userUpdateTime`; an existing name →
///   409 ALREADY_EXISTS. An `httpTarget.body` aimed at an API the stand-in serves is base64-decoded
///   and checked against that method's schema too (a CustomJob for `…/customJobs`).
/// - `GET …/jobs[?pageSize=…&pageToken=…]` → `{"jobs": […], "nextPageToken"}` (`{}` when there are
///   none); `GET …/jobs/ID` → the Job;
///   `DELETE …/jobs/ID` → `{}`; both 404 NOT_FOUND when there is no such job.
/// - `POST …/jobs/ID:pause` / `:resume` (body `{}`) → the Job, `state` PAUSED / ENABLED.
/// - `POST …/jobs/ID:run` → the Job, after the stand-in has performed its HTTP target as Scheduler
///   would (`performHTTPTarget`): a CustomJob target creates that CustomJob here. Recorded in
///   `scheduledRuns`; the job's `status` and `lastAttemptTime` tell how the attempt went.
extension StandInServer {
    func schedulerJobs(_ request: IncomingRequest, _ resource: ResourcePath, _ body: JSONValue?) async throws -> APIResponse {
        guard LocationShape.isRegion(resource.location) else {
            throw GoogleError.invalidArgument("Location \(resource.location) is not a region (e.g. europe-west3).")
        }
        switch (request.method, resource.id, resource.verb) {
        case ("POST", nil, nil):
            return .ok(try await createSchedulerJob(request, resource, body ?? [:]))
        case ("GET", nil, nil):
            let prefix = resource.parent + "/jobs/"
            let jobs = schedulerJobOrder.filter { $0.hasPrefix(prefix) }.compactMap { schedulerJobs[$0] }
            return .ok(try Listing.page(jobs, key: "jobs", query: request.query, defaultPageSize: knobs.listPageSize))
        case ("GET", .some, nil):
            return .ok(try existingSchedulerJob(resource))
        case ("DELETE", .some, nil):
            _ = try existingSchedulerJob(resource)
            schedulerJobs[resource.name] = nil
            schedulerJobOrder.removeAll { $0 == resource.name }
            return .ok([:])
        case ("POST", .some, "pause"), ("POST", .some, "resume"):
            var job = try existingSchedulerJob(resource)
            job["state"] = resource.verb == "pause" ? "PAUSED" : "ENABLED"
            job["userUpdateTime"] = Timestamp.now()
            schedulerJobs[resource.name] = job
            return .ok(job)
        case ("POST", .some, "run"):
            let job = try existingSchedulerJob(resource)
            let run = await performHTTPTarget(of: job, named: resource.name)
            runs.append(run)
            schedulerJobs[resource.name]?["lastAttemptTime"] = Timestamp.now()
            if (200..<300).contains(run.responseStatus) {
                schedulerJobs[resource.name]?["status"] = [:]
            } else {
                let message = run.note ?? run.response?["error"]?["message"]?.stringValue ?? "HTTP \(run.responseStatus)"
                let status = run.response?["error"]?["status"]?.stringValue ?? "UNKNOWN"
                schedulerJobs[resource.name]?["status"] = GoogleError(code: run.responseStatus, status: status, message: message).rpcStatus
            }
            return .ok(schedulerJobs[resource.name] ?? job)
        default:
            throw Self.noRoute(request)
        }
    }

    /// Cloud Scheduler jobs that exist now (pre-existing ones included), in creation order.
    public var storedSchedulerJobs: [JSONValue] { schedulerJobOrder.compactMap { schedulerJobs[$0] } }

    /// Makes a Scheduler job exist before the test runs (its `name`, `state` and `userUpdateTime` are set).
    public func addSchedulerJob(project: String, location: String, id: String, job: JSONValue = ["schedule": "0 6 * * *"]) {
        let name = "projects/\(project)/locations/\(location)/jobs/\(id)"
        var stored = job
        stored["name"] = .string(name)
        stored["state"] = "ENABLED"
        stored["userUpdateTime"] = Timestamp.now()
        if schedulerJobs[name] == nil { schedulerJobOrder.append(name) }
        schedulerJobs[name] = stored
    }

    private func createSchedulerJob(_ request: IncomingRequest, _ resource: ResourcePath, _ body: JSONValue) async throws -> JSONValue {
        let name: String
        if let given = body["name"]?.stringValue {
            let id = given.hasPrefix(resource.parent + "/jobs/") ? String(given.dropFirst(resource.parent.count + 6)) : ""
            guard id.range(of: #"^[A-Za-z0-9_-]{1,500}$"#, options: .regularExpression) != nil else {
                throw GoogleError.invalidArgument("Job name \(given) must be \(resource.parent)/jobs/JOB_ID, JOB_ID of letters, digits, '-' and '_'.")
            }
            name = given
        } else {
            name = "\(resource.parent)/jobs/\(StandInCredentials.hex(8))"
        }
        guard schedulerJobs[name] == nil else { throw GoogleError.alreadyExists("Job \(name) already exists.") }
        try await checkTargetBody(of: body, name: name, request: request)
        var job = body
        job["name"] = .string(name)
        job["state"] = "ENABLED"
        job["userUpdateTime"] = Timestamp.now()
        schedulerJobs[name] = job
        schedulerJobOrder.append(name)
        return job
    }

    private func existingSchedulerJob(_ resource: ResourcePath) throws -> JSONValue {
        guard let job = schedulerJobs[resource.name] else { throw GoogleError.notFound("Job not found.") }
        return job
    }

    /// The schema check of a job's `httpTarget.body` when its URI is a method of an API served here.
    private func checkTargetBody(of job: JSONValue, name: String, request: IncomingRequest) async throws {
        guard let target = job["httpTarget"], let uri = target["uri"]?.stringValue,
              let resource = URLComponents(string: uri).flatMap({ ResourcePath($0.path) }),
              let (document, schema) = resource.requestSchema(method: target["httpMethod"]?.stringValue ?? "POST")
        else { return }
        let body = target["body"]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data("{}".utf8)
        try await checkSchema(body, document: document, schema: schema, request: request,
                              context: "httpTarget.body of \(name), base64-decoded")
    }

    /// Performs a job's HTTP target as Cloud Scheduler would: the URI's path is handled by this
    /// stand-in when the URI names the API's real host (`https://R-aiplatform.googleapis.com`,
    /// `https://notebooks.googleapis.com`, …), with the job's headers, the decoded body and, for an
    /// `oauthToken`, a token minted for its service account. Otherwise nothing is performed (status 0)
    /// and `note` says why: a URI on the stand-in's own address means `SWIFTDOCK_GOOGLE_API_BASE`
    /// leaked into the job.
    private func performHTTPTarget(of job: JSONValue, named name: String) async -> ScheduledRun {
        let target = job["httpTarget"] ?? [:]
        let uri = target["uri"]?.stringValue ?? ""
        let method = target["httpMethod"]?.stringValue ?? "POST"
        var headers: [String: String] = [:]
        for (key, value) in target["headers"]?.objectValue ?? [:] { headers[key.lowercased()] = value.stringValue ?? "" }
        let body = target["body"]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data()
        if !body.isEmpty, headers["content-type"] == nil { headers["content-type"] = "application/octet-stream" }
        headers["user-agent"] = "Google-Cloud-Scheduler"
        var run = ScheduledRun(jobName: name, uri: uri, httpMethod: method, headers: headers,
                               body: body.isEmpty ? nil : JSONValue(data: body), responseStatus: 0, response: nil, note: nil)
        guard job["httpTarget"] != nil else {
            run.note = "the job has no httpTarget"
            return run
        }
        guard let url = URLComponents(string: uri), url.scheme == "https", let host = url.host,
              let resource = ResourcePath(url.path), let expected = resource.host else {
            run.note = "\(uri) is not an https URI of an API the stand-in serves"
            return run
        }
        guard host == expected else {
            run.note = "\(uri) names host \(host); the API is at \(expected)"
            return run
        }
        if let oauth = target["oauthToken"] {
            let email = oauth["serviceAccountEmail"]?.stringValue ?? credentials.serviceAccountEmail
            headers["authorization"] = "Bearer " + mintAccessToken(for: .serviceAccount(email))
        } else if target["oidcToken"] != nil {
            headers["authorization"] = "Bearer eyJ.oidc-identity-token.not-accepted-by-googleapis"
        }
        let answer = await handle(IncomingRequest(method: method, path: url.path, query: FormEncoding.decode(url.query ?? ""),
                                                  headers: headers, body: body, fromScheduler: true))
        run.responseStatus = answer.status
        run.response = answer.body
        return run
    }
}
