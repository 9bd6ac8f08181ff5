import ArgumentParser
import Foundation
import Vertex

/// `swiftdock vertex`: hands a pushed image to Google Cloud — a CustomJob that runs it to
/// completion, a Workbench instance for interactive work, a Cloud Scheduler job for nightly runs.
struct VertexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vertex", abstract: "Run a pushed image on Vertex AI (CustomJob, Workbench, Cloud Scheduler).",
        subcommands: [VertexRunCommand.self, VertexCancelCommand.self, VertexLogsCommand.self, WorkbenchCommand.self, ScheduleCommand.self])
}

/// `--project` (default `$CLOUDSDK_CORE_PROJECT`, then `$GOOGLE_CLOUD_PROJECT`, as gcloud does).
struct ProjectOption: ParsableArguments {
    @Option(help: "Google Cloud project ID (default: $CLOUDSDK_CORE_PROJECT or $GOOGLE_CLOUD_PROJECT).")
    var project: String?

    func resolved() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let project = project ?? ["CLOUDSDK_CORE_PROJECT", "GOOGLE_CLOUD_PROJECT"].lazy
            .compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else {
            throw ValidationError("Missing expected argument '--project <project>'")
        }
        return try usage { try GoogleLocation.project(project) }
    }
}

/// `--project` and `--region` for Vertex AI jobs and Scheduler jobs.
struct RegionOptions: ParsableArguments {
    @OptionGroup var project: ProjectOption

    // Optional to the parser so that `vertex run --local` can go without it; required below.
    @Option(help: "Region, for example europe-west3.")
    var region: String?

    func resolved() throws -> (project: String, region: String) {
        guard let region else { throw ValidationError("Missing expected argument '--region <region>'") }
        return (try project.resolved(), try usage { try GoogleLocation.region(region) })
    }
}

/// `--dry-run`, shared by the commands that create something.
struct DryRunOption: ParsableArguments {
    @Flag(help: "Print the JSON request body on stdout and send nothing.")
    var dryRun = false

    /// With `--dry-run`: prints `body` (`printRequestBody`) and answers true, so the caller
    /// sends nothing.
    func printed(_ body: some Encodable) throws -> Bool {
        guard dryRun else { return false }
        try printRequestBody(body)
        return true
    }
}

/// A usage mistake found by the Vertex module becomes the parser's kind of error (exit 125),
/// so it reads and exits like any other bad flag.
func usage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as VertexError where error.kind == .usage {
        throw ValidationError(error.message)
    }
}

/// Prints a request body the way `--dry-run` shows it: pretty JSON, sorted keys, on stdout.
func printRequestBody(_ body: some Encodable) throws {
    print(String(decoding: try GoogleJSON.encode(body, pretty: true), as: UTF8.self))
}

/// Runs `body` with a Google API client, closing it afterwards whatever happens.
func withGoogleAPI<T>(_ body: (GoogleAPIClient) async throws -> T) async throws -> T {
    try await withClient(GoogleAPIClient(), body)
}

/// The poll schedule for `--wait` (`SWIFTDOCK_POLL_INTERVAL` overrides it).
var pollSchedule: PollSchedule { PollSchedule(environment: ProcessInfo.processInfo.environment) }
