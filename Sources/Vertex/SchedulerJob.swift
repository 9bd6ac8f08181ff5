import Foundation

/// A Cloud Scheduler job (`Job` of cloudscheduler v1) whose HTTP target calls a Google API
/// directly with an OAuth token of a service account: no Pub/Sub, no Cloud Function.
public struct SchedulerJob: Codable, Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var schedule: String?
    public var timeZone: String?
    /// A google-duration, 15 s to 30 min for HTTP targets.
    public var attemptDeadline: String?
    public var retryConfig: RetryConfig?
    public var httpTarget: HTTPTarget?

    // Output only.
    public var state: String?
    public var scheduleTime: String?
    public var lastAttemptTime: String?
    public var status: GoogleStatus?

    public init(name: String?, description: String?, schedule: String, timeZone: String?, attemptDeadline: String?,
                retryConfig: RetryConfig?, httpTarget: HTTPTarget) {
        self.name = name
        self.description = description
        self.schedule = schedule
        self.timeZone = timeZone
        self.attemptDeadline = attemptDeadline
        self.retryConfig = retryConfig
        self.httpTarget = httpTarget
    }

    public struct RetryConfig: Codable, Sendable, Equatable {
        public var retryCount: Int?
        public init(retryCount: Int?) { self.retryCount = retryCount }
    }

    public struct HTTPTarget: Codable, Sendable, Equatable {
        public var uri: String
        public var httpMethod: String?
        public var headers: [String: String]?
        /// base64, as the API's `byte` format wants.
        public var body: String?
        public var oauthToken: OAuthToken?

        public init(uri: String, httpMethod: String?, headers: [String: String]?, body: String?, oauthToken: OAuthToken?) {
            self.uri = uri
            self.httpMethod = httpMethod
            self.headers = headers
            self.body = body
            self.oauthToken = oauthToken
        }
    }

    public struct OAuthToken: Codable, Sendable, Equatable {
        public var serviceAccountEmail: String
        public var scope: String?
        public init(serviceAccountEmail: String, scope: String?) {
            self.serviceAccountEmail = serviceAccountEmail
            self.scope = scope
        }
    }

    /// The job's ID, the last component of `name`.
    public var id: String? { name?.split(separator: "/").last.map(String.init) }
}

/// What `swiftdock vertex schedule NAME` was asked for: the CustomJob `vertex run` would
/// create, posted by Cloud Scheduler on a cron schedule.
public struct ScheduleRequest: Sendable, Equatable {
    public var name: String
    public var cron: String
    public var timeZone: String?
    public var project: String
    public var region: String
    /// The service account Scheduler signs its calls as; it needs `roles/aiplatform.user`.
    public var serviceAccount: String
    public var run: VertexRunRequest

    public init(name: String, cron: String, timeZone: String?, project: String, region: String,
                serviceAccount: String, run: VertexRunRequest) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.project = project
        self.region = region
        self.serviceAccount = serviceAccount
        self.run = run
    }

    /// The Scheduler job body. Retries stay off: a CustomJob create is not idempotent.
    public func job() throws -> SchedulerJob {
        try Self.checkName(name)
        try CronSchedule.check(cron)
        var customJob = try run.customJob()
        customJob.labels = (customJob.labels ?? [:]).merging([Self.labelKey: labelValue]) { $1 }
        let body = try GoogleJSON.encode(customJob).base64EncodedString()
        let target = SchedulerJob.HTTPTarget(
            uri: GoogleEndpoints.customJobs(project: project, region: region), httpMethod: "POST",
            headers: ["Content-Type": "application/json"], body: body,
            oauthToken: .init(serviceAccountEmail: serviceAccount, scope: GoogleEndpoints.cloudPlatformScope))
        return SchedulerJob(
            name: "\(GoogleEndpoints.place(project: project, location: region))/jobs/\(name)",
            description: "swiftdock: run \(run.image) as a Vertex AI CustomJob", schedule: cron, timeZone: timeZone,
            attemptDeadline: "180s", retryConfig: .init(retryCount: 0), httpTarget: target)
    }

    /// The label every CustomJob a schedule creates carries, so `schedule run --wait` can
    /// find the one it started.
    public static let labelKey = "swiftdock-schedule"

    /// Label values allow lowercase letters, digits, `-` and `_`, 63 at most.
    public var labelValue: String { Self.labelValue(name: name) }

    static func labelValue(name: String) -> String { String(name.lowercased().prefix(63)) }

    /// The list filter for jobs this schedule created.
    public static func jobFilter(name: String) -> String {
        "labels.\(labelKey)=\"\(labelValue(name: name))\""
    }

    /// Scheduler job IDs: letters, digits, hyphens and underscores, 500 at most.
    public static func checkName(_ name: String) throws {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        guard (1...500).contains(name.count), allowed else {
            throw VertexError(.usage, "schedule name \"\(name)\": use letters, digits, hyphens and underscores")
        }
    }
}
