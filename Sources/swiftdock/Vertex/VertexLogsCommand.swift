import ArgumentParser
import Foundation
import Vertex

/// `swiftdock vertex logs JOB_ID --project P --region R [--follow]`: a CustomJob's log lines
/// from Cloud Logging, as `gcloud ai custom-jobs stream-logs` shows them, one per line on stdout.
struct VertexLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a Vertex AI CustomJob's log (Cloud Logging).",
                                                    usage: Synopsis.Vertex.logs)

    @OptionGroup var target: CustomJobTarget

    @Flag(help: "Keep printing new lines until the job ends; exit 0 only if it succeeded.")
    var follow = false

    func run() async throws {
        try await target.with { api, name in
            let jobs = api.customJobs
            let logging = CloudLogging(client: api.client, project: api.project)
            var cursor = LogCursor(jobID: CustomJob.id(ofName: name))
            guard follow else {
                for entry in try await cursor.next(from: logging) { print(entry.text) }
                return
            }
            let final = try await jobs.wait(for: name, schedule: pollSchedule, onPoll: {
                for entry in try await cursor.next(from: logging) { print(entry.text) }
                StandardOutput.flush()
            }, onChange: { _ in })
            // What was logged between the last poll and the end.
            for entry in try await cursor.next(from: logging) { print(entry.text) }
            try requireSuccess(final, name: name)
        }
    }
}
