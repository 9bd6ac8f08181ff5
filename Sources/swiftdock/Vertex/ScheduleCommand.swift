import ArgumentParser
import Foundation
import ImageStore
import Vertex

/// `swiftdock vertex schedule NAME --cron … -- IMAGE [vertex run flags]`, plus `list`,
/// `delete`, `run`: Cloud Scheduler calls Vertex AI directly, creating the CustomJob that
/// `vertex run` would — no Pub/Sub, no Cloud Function, no VM left running.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Run an image on Vertex AI on a cron schedule (Cloud Scheduler).",
        usage: Synopsis.Vertex.schedule,
        discussion: """
            swiftdock vertex schedule nightly --cron "0 6 * * *" --project P --region R \\
                --service-account scheduler@P.iam.gserviceaccount.com -- IMAGE [vertex run flags]
            """,
        subcommands: [ScheduleCreateCommand.self, ScheduleListCommand.self, ScheduleDeleteCommand.self, ScheduleRunCommand.self,
                      SchedulePauseCommand.self, ScheduleResumeCommand.self, ScheduleRunsCommand.self, ScheduleDescribeCommand.self],
        defaultSubcommand: ScheduleCreateCommand.self)
}

struct ScheduleCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a schedule (the default: `schedule NAME …`).",
        usage: Synopsis.Vertex.scheduleCreate)

    @Argument(help: "Schedule name.")
    var name: String

    @Option(help: "unix-cron schedule, for example \"0 6 * * *\".")
    var cron: String

    @OptionGroup var location: RegionOptions

    @Option(help: "Service account Cloud Scheduler calls Vertex AI as (needs roles/aiplatform.user).")
    var serviceAccount: String

    @Option(help: "Time zone of the schedule, for example Europe/Berlin (default: UTC).")
    var timeZone: String?

    @OptionGroup var mode: DryRunOption
    @OptionGroup var store: StoreOptions

    @Argument(parsing: .postTerminator, help: "After --: IMAGE and `vertex run` flags.")
    var runArguments: [String] = []

    func run() async throws {
        let (project, region) = try location.resolved()
        guard !runArguments.isEmpty else {
            throw ValidationError("expected -- IMAGE [vertex run flags] after the schedule's own flags")
        }
        let job: VertexJobOptions
        do {
            job = try VertexJobOptions.parse(runArguments)
        } catch {
            throw ValidationError("after --: \(VertexJobOptions.message(for: error))")
        }
        let request = ScheduleRequest(name: name, cron: cron, timeZone: timeZone, project: project, region: region,
                                      serviceAccount: serviceAccount,
                                      run: try job.request(image: try job.pinnedImage(storeRoot: store.root ?? ImageStore.defaultRoot())))
        let body = try usage { try request.job() }
        if let warning = request.run.registryWarning() { printError("WARNING: \(warning)") }
        if try mode.printed(body) { return }
        try await withGoogleAPI { client in
            let created = try await Scheduler(client: client, project: project, region: region).create(body)
            print(created.name ?? name)
            printError("Scheduled \(request.run.image) at \"\(cron)\" \(timeZone ?? "UTC") as a Vertex AI CustomJob in \(region)")
        }
    }
}

struct ScheduleListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List schedules in a region.",
                                                    usage: Synopsis.Vertex.scheduleList)

    @OptionGroup var location: RegionOptions

    func run() async throws {
        try await RegionalAPI.with(location) { api in
            let jobs = try await api.scheduler.list()
            let rows = jobs.map { job in
                [job.id ?? "", job.schedule ?? "", job.timeZone ?? "UTC", job.state ?? "", job.httpTarget?.uri ?? ""]
            }
            print(formatTable([["NAME", "SCHEDULE", "TIME ZONE", "STATE", "TARGET"]] + rows))
        }
    }
}

struct ScheduleDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a schedule.",
                                                    usage: Synopsis.Vertex.schedule("delete"))

    @OptionGroup var schedule: ScheduleTarget

    func run() async throws {
        try await schedule.with { api in
            try await api.scheduler.delete(schedule.name)
            print(schedule.name)
        }
    }
}

struct ScheduleRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a schedule now, outside its cron times.",
                                                    usage: Synopsis.Vertex.scheduleRun)

    @OptionGroup var schedule: ScheduleTarget

    @Flag(help: "Wait for the CustomJob the run creates to end; exit non-zero unless it succeeds.")
    var wait = false

    /// How long Scheduler gets to create the CustomJob (its attempt deadline is 180 s).
    static let appearanceTimeout: TimeInterval = 300

    func run() async throws {
        let name = schedule.name
        try await schedule.with { api in
            let jobs = api.customJobs
            let filter = ScheduleRequest.jobFilter(name: name)
            // The schedule's jobs carry its label; the new one is whichever was not there before.
            let before = wait ? Set(try await jobs.list(filter: filter).compactMap(\.name)) : []
            let schedule = try await api.scheduler.run(name)
            guard wait else {
                print(schedule.name ?? name)
                return
            }
            printError("Ran schedule \(name); waiting for the CustomJob it creates")
            let deadline = Date().addingTimeInterval(Self.appearanceTimeout)
            let appeared = try await pollSchedule.poll({
                try await jobs.list(filter: filter).compactMap(\.name).filter { !before.contains($0) }
            }, until: { !$0.isEmpty || Date() > deadline })
            guard let created = appeared.sorted().last else {
                throw VertexError(.failed, "schedule \(name) ran, but no CustomJob labelled \(filter) appeared in "
                    + "\(Int(Self.appearanceTimeout)) s; see the schedule's last attempt in the Cloud Scheduler console")
            }
            print(created)
            try await waitForSuccess(of: created, in: jobs)
        }
    }
}
