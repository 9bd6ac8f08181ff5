import ArgumentParser
import Vertex

/// What the commands on one existing CustomJob or schedule share: `--project`/`--region`
/// resolved and the name checked before anything is sent (mistakes exit 125), then Vertex AI's
/// CustomJobs and Cloud Scheduler of that project and region on one Google API client, which
/// is closed afterwards whatever happens.
struct RegionalAPI {
    let client: GoogleAPIClient
    let project: String
    let region: String

    var customJobs: CustomJobs { CustomJobs(client: client, project: project, region: region) }
    var scheduler: Scheduler { Scheduler(client: client, project: project, region: region) }

    /// Runs `body` in `location`, after checking `schedule`, when given, as a schedule name.
    static func with<T>(_ location: RegionOptions, schedule: String? = nil,
                        _ body: (RegionalAPI) async throws -> T) async throws -> T {
        let (project, region) = try location.resolved()
        if let schedule { try usage { try ScheduleRequest.checkName(schedule) } }
        return try await withGoogleAPI { client in
            try await body(RegionalAPI(client: client, project: project, region: region))
        }
    }

    /// The full resource name of `job` (its ID or full name); a malformed one is a usage error.
    func jobName(_ job: String) throws -> String {
        try usage { try customJobs.name(of: job) }
    }
}

/// The schedule a `vertex schedule` subcommand acts on: NAME, `--project` and `--region`.
struct ScheduleTarget: ParsableArguments {
    @Argument(help: "Schedule name.") var name: String
    @OptionGroup var location: RegionOptions

    /// Runs `body` in the schedule's region once NAME is checked (`RegionalAPI.with`).
    func with<T>(_ body: (RegionalAPI) async throws -> T) async throws -> T {
        try await RegionalAPI.with(location, schedule: name, body)
    }
}

/// The CustomJob a `vertex` subcommand acts on: JOB (its ID or full name), `--project` and
/// `--region`.
struct CustomJobTarget: ParsableArguments {
    @Argument(help: "The job: its ID or projects/…/locations/R/customJobs/ID.")
    var job: String

    @OptionGroup var location: RegionOptions

    /// Runs `body` in the job's region with the job's full resource name (`RegionalAPI.jobName`).
    func with<T>(_ body: (RegionalAPI, _ name: String) async throws -> T) async throws -> T {
        try await RegionalAPI.with(location) { api in try await body(api, try api.jobName(job)) }
    }
}
