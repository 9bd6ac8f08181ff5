import Foundation

/// Creating and following Vertex AI CustomJobs. A create answers with the job itself (not a
/// long-running operation); its `name` is then polled on the same regional host.
public struct CustomJobs: Sendable {
    public let client: GoogleAPIClient
    public let project: String
    public let region: String

    public init(client: GoogleAPIClient, project: String, region: String) {
        self.client = client
        self.project = project
        self.region = region
    }

    var place: String { GoogleEndpoints.place(project: project, location: region) }

    public func create(_ job: CustomJob) async throws -> CustomJob {
        try await client.call(.POST, GoogleEndpoints.customJobs(project: project, region: region), body: job,
                              action: "create CustomJob in \(place)")
    }

    /// `name` is the job's full resource name, `projects/…/customJobs/ID`.
    public func get(_ name: String) async throws -> CustomJob {
        try await client.call(.GET, "\(GoogleEndpoints.aiplatform(region: region))/\(name)", action: "get \(name)")
    }

    /// Asks Vertex AI to cancel the job; it goes `JOB_STATE_CANCELLING`, then `JOB_STATE_CANCELLED`.
    public func cancel(_ name: String) async throws {
        let _: GoogleAPIClient.Empty = try await client.call(.POST, "\(GoogleEndpoints.aiplatform(region: region))/\(name):cancel",
                                                             body: GoogleAPIClient.Empty(), action: "cancel \(name)")
    }

    /// A job's full name from what a user typed: the name itself, or its numeric ID.
    public func name(of job: String) throws -> String {
        if job.hasPrefix("projects/") {
            guard job.contains("/locations/\(region)/customJobs/") else {
                throw VertexError(.usage, "\(job) is not a CustomJob in \(region)")
            }
            return job
        }
        guard !job.isEmpty, job.allSatisfy(\.isNumber) else {
            throw VertexError(.usage, "\(job): expected a CustomJob ID or projects/…/customJobs/ID")
        }
        return "\(place)/customJobs/\(job)"
    }

    /// Jobs matching an aiplatform list filter (`labels.KEY="VALUE"`, `state=…`), every page.
    public func list(filter: String) async throws -> [CustomJob] {
        struct Page: Decodable {
            var customJobs: [CustomJob]?
            var nextPageToken: String?
        }
        let base = GoogleEndpoints.customJobs(project: project, region: region) + "?filter=" + GoogleQuery.escape(filter)
        return try await GooglePaging.all { token in
            let url = token.map { base + "&pageToken=" + GoogleQuery.escape($0) } ?? base
            let page: Page = try await client.call(.GET, url, action: "list CustomJobs in \(place)")
            return (page.customJobs, page.nextPageToken)
        }
    }

    /// Polls until the job reaches a final state, calling `onChange` whenever its state changes
    /// and `onPoll` before each look (to show its log meanwhile). Returns the final job; whether
    /// it succeeded is the caller's to judge.
    public func wait(for name: String, schedule: PollSchedule, onPoll: () async throws -> Void = {},
                     onChange: (CustomJob) -> Void) async throws -> CustomJob {
        var lastState: String?
        return try await schedule.poll({
            try await onPoll()
            return try await get(name)
        }, until: { job in
            if job.state != lastState {
                lastState = job.state
                onChange(job)
            }
            return job.state.map(CustomJob.finalStates.contains) ?? false
        })
    }
}
