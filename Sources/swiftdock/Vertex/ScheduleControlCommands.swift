import ArgumentParser
import Foundation
import ImageModel
import Vertex

/// `vertex schedule pause|resume NAME`: stops and restarts a schedule's cron runs, as
/// `gcloud scheduler jobs pause|resume` do. Prints the schedule's name and new state.
struct SchedulePauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause a schedule (no runs until resumed).",
                                                    usage: Synopsis.Vertex.schedule("pause"))

    @OptionGroup var schedule: ScheduleTarget

    func run() async throws {
        try await changeSchedule(schedule) { try await $0.pause($1) }
    }
}

struct ScheduleResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused schedule.",
                                                    usage: Synopsis.Vertex.schedule("resume"))

    @OptionGroup var schedule: ScheduleTarget

    func run() async throws {
        try await changeSchedule(schedule) { try await $0.resume($1) }
    }
}

/// Pauses or resumes (`change`, given the scheduler and the name) and prints the new state.
private func changeSchedule(_ schedule: ScheduleTarget,
                            _ change: (Scheduler, String) async throws -> SchedulerJob) async throws {
    try await schedule.with { api in
        let job = try await change(api.scheduler, schedule.name)
        print("\(schedule.name)\t\(job.state ?? "STATE_UNSPECIFIED")")
    }
}

/// `vertex schedule runs NAME`: the CustomJobs the schedule created (found by the label its
/// CustomJob body carries), oldest first, with state, start, end and duration.
struct ScheduleRunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the CustomJobs a schedule created.",
                                                    usage: Synopsis.Vertex.schedule("runs"))

    @OptionGroup var schedule: ScheduleTarget

    func run() async throws {
        let name = schedule.name
        try await schedule.with { api in
            let jobs = try await api.customJobs
                .list(filter: ScheduleRequest.jobFilter(name: name))
                .sorted { ($0.createTime ?? "") < ($1.createTime ?? "") }
            let rows = jobs.map { job in
                [job.name.map(CustomJob.id(ofName:)) ?? "", job.state ?? "",
                 job.startTime ?? "-", job.endTime ?? "-", RunDuration.text(start: job.startTime, end: job.endTime)]
            }
            print(formatTable([["JOB ID", "STATE", "START", "END", "DURATION"]] + rows))
        }
    }
}

/// `vertex schedule describe NAME`: the schedule as a person reads it — when it runs, whether
/// it is paused, what it runs and how its last attempt went.
struct ScheduleDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show a schedule and what it runs.",
                                                    usage: Synopsis.Vertex.schedule("describe"))

    @OptionGroup var schedule: ScheduleTarget

    func run() async throws {
        let name = schedule.name
        try await schedule.with { api in
            let job = try await api.scheduler.get(name)
            var lines: [(String, String)] = [
                ("name", job.name ?? name), ("schedule", job.schedule ?? ""), ("time zone", job.timeZone ?? "UTC"),
                ("state", job.state ?? ""), ("target", "\(job.httpTarget?.httpMethod ?? "POST") \(job.httpTarget?.uri ?? "")"),
                ("runs as", job.httpTarget?.oauthToken?.serviceAccountEmail ?? "-"),
            ]
            // The CustomJob the schedule posts, when its body is one.
            if let body = job.httpTarget?.body, let data = Data(base64Encoded: body),
               let customJob = try? JSONDecoder().decode(CustomJob.self, from: data),
               let container = customJob.jobSpec.workerPoolSpecs.first?.containerSpec {
                lines.append(("image", container.imageUri))
                lines.append(("machine", customJob.jobSpec.workerPoolSpecs[0].machineSpec.machineType))
                if let strategy = customJob.jobSpec.scheduling?.strategy { lines.append(("strategy", strategy)) }
            }
            lines.append(("next run", job.scheduleTime ?? "-"))
            lines.append(("last attempt", job.lastAttemptTime ?? "-"))
            if job.lastAttemptTime != nil {
                // An empty status (code 0, OK) is a success.
                let failure = job.status.flatMap { ($0.code ?? 0) == 0 ? nil : $0 }
                let outcome = failure.map { "\($0.message.map(VertexError.oneLine) ?? "failed") (code \($0.code ?? 0))" } ?? "succeeded"
                lines.append(("last result", outcome))
            }
            for (key, value) in lines { print("\(key + ":")\(String(repeating: " ", count: max(1, 13 - key.count)))\(value)") }
        }
    }
}

/// How long a job ran, from Google's RFC 3339 times (`1h02m03s`, `4m05s`, `6s`).
enum RunDuration {
    static func text(start: String?, end: String?) -> String {
        guard let start = start.flatMap(Timestamp.parse), let end = end.flatMap(Timestamp.parse), end >= start else { return "-" }
        let seconds = Int(end.timeIntervalSince(start).rounded())
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60)
        if h > 0 { return String(format: "%dh%02dm%02ds", h, m, s) }
        if m > 0 { return String(format: "%dm%02ds", m, s) }
        return "\(s)s"
    }
}
