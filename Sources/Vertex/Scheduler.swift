import Foundation

/// Cloud Scheduler jobs in one project and region. Answers are `Job`s, not operations.
public struct Scheduler: Sendable {
    public let client: GoogleAPIClient
    public let project: String
    public let region: String

    public init(client: GoogleAPIClient, project: String, region: String) {
        self.client = client
        self.project = project
        self.region = region
    }

    var jobs: String { GoogleEndpoints.schedulerJobs(project: project, region: region) }
    var place: String { GoogleEndpoints.place(project: project, location: region) }

    public func create(_ job: SchedulerJob) async throws -> SchedulerJob {
        let id = job.id ?? "job"
        do {
            return try await client.call(.POST, jobs, body: job, action: "create schedule \(id) in \(place)")
        } catch let error as VertexError where error.httpStatus == 409 {
            throw VertexError(.api, "schedule \(id) already exists in \(place)", httpStatus: 409, googleStatus: error.googleStatus)
        }
    }

    /// Every job in the region (following page tokens).
    public func list() async throws -> [SchedulerJob] {
        struct Page: Decodable {
            var jobs: [SchedulerJob]?
            var nextPageToken: String?
        }
        return try await GooglePaging.all { token in
            let url = token.map { "\(jobs)?pageToken=" + GoogleQuery.escape($0) } ?? jobs
            let page: Page = try await client.call(.GET, url, action: "list schedules in \(place)")
            return (page.jobs, page.nextPageToken)
        }
    }

    public func delete(_ id: String) async throws {
        let _: GoogleAPIClient.Empty = try await client.call(.DELETE, "\(jobs)/\(id)", action: "delete schedule \(id) in \(place)")
    }

    /// Runs the job now, outside its schedule.
    public func run(_ id: String) async throws -> SchedulerJob {
        try await client.call(.POST, "\(jobs)/\(id):run", body: GoogleAPIClient.Empty(), action: "run schedule \(id) in \(place)")
    }

    public func get(_ id: String) async throws -> SchedulerJob {
        try await client.call(.GET, "\(jobs)/\(id)", action: "get schedule \(id) in \(place)")
    }

    /// Stops the schedule's cron runs until `resume`; the job answers `state: PAUSED`.
    public func pause(_ id: String) async throws -> SchedulerJob {
        try await client.call(.POST, "\(jobs)/\(id):pause", body: GoogleAPIClient.Empty(), action: "pause schedule \(id) in \(place)")
    }

    public func resume(_ id: String) async throws -> SchedulerJob {
        try await client.call(.POST, "\(jobs)/\(id):resume", body: GoogleAPIClient.Empty(), action: "resume schedule \(id) in \(place)")
    }
}
