import ArgumentParser
import Foundation
import ImageStore
import Vertex

/// What a CustomJob runs: the image and its container settings. Shared by `vertex run` and by
/// the part of `vertex schedule` after `--`.
struct VertexJobOptions: ParsableArguments {
    @Argument(help: "The image to run, exactly as Vertex AI should pull it (for example europe-west3-docker.pkg.dev/P/R/IMAGE:TAG).")
    var image: String

    @Option(help: "Machine type.")
    var machineType = VertexRunRequest.defaultMachineType

    @Option(help: "Accelerator TYPE[:COUNT], for example NVIDIA_TESLA_T4:1.")
    var accelerator: String?

    // One value per use, even one starting with a dash (`--command -c`).
    @Option(parsing: .unconditionalSingleValue, help: "Overrides the image's ENTRYPOINT; each use appends one element.")
    var command: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: "Overrides the image's CMD; each use appends one element.")
    var arg: [String] = []

    @Option(help: "Environment variable KEY=VALUE for the container.")
    var env: [String] = []

    @Option(help: "Service account the job runs as.")
    var serviceAccount: String?

    @Option(help: "Display name of the job (default: swiftdock-IMAGE).")
    var displayName: String?

    @Option(help: "Stop the job after this long, for example 3600s (Vertex's default is 7 days).")
    var timeout: String?

    @Option(help: "Run this notebook (a path inside the image) instead of the image's command.")
    var notebook: String?

    @Option(help: "With --notebook: the directory to run it in (default: the notebook's).")
    var workdir: String?

    @Option(help: "With --notebook: copy the files it writes to gs://BUCKET/PREFIX (through /gcs/).")
    var outputs: String?

    @Option(name: .customLong("parameters"), help: "With --notebook: papermill parameter NAME=VALUE (repeatable; runs papermill NB OUT -p NAME VALUE …).")
    var parameters: [String] = []

    @Option(help: "With --notebook: papermill parameters from a .yaml or .json file (--parameters wins over it).")
    var parametersFile: String?

    @Flag(help: "Run on Spot VMs (scheduling strategy SPOT: cheaper, may be preempted).")
    var spot = false

    @Flag(help: "Run with Dynamic Workload Scheduler's flex-start (scheduling strategy FLEX_START).")
    var flexStart = false

    @Option(help: "With --flex-start: how long to wait for machines, for example 3600s.")
    var maxWait: String?

    @Flag(help: "Do not retry the job after an internal error once it runs.")
    var disableRetries = false

    @Flag(help: "Send IMAGE's tag as typed, not the digest this store pushed it as (REPO@sha256:…).")
    var noPin = false

    /// What the job pulls: IMAGE pinned to (or mapped to) what this store pushed; says so on stderr.
    func pinnedImage(storeRoot: String) throws -> String {
        let choice = try PushedImage.choose(image, storeRoot: storeRoot, pin: !noPin)
        if let warning = choice.warning { printError("WARNING: \(warning)") }
        if let note = choice.note { printError(note) }
        return choice.uri
    }

    /// The request for `image` (default: IMAGE as typed).
    func request(image: String? = nil) throws -> VertexRunRequest {
        if notebook == nil, workdir != nil || outputs != nil || !parameters.isEmpty || parametersFile != nil {
            throw ValidationError("--workdir, --outputs, --parameters and --parameters-file go with --notebook")
        }
        guard !(spot && flexStart) else { throw ValidationError("--spot and --flex-start exclude each other") }
        let parsed = try usage { try parameters.map { try NotebookRun.Parameter(parsing: $0) } }
        let yaml = try parametersFile.map(ParametersFile.read)
        return VertexRunRequest(
            image: image ?? self.image, machineType: machineType, accelerator: accelerator, command: command, args: arg,
            environment: env, serviceAccount: serviceAccount, displayName: displayName, timeout: timeout,
            notebook: notebook.map {
                NotebookRun(notebook: $0, workdir: workdir, outputs: outputs, parameters: parsed, parametersYAML: yaml)
            },
            strategy: spot ? .spot : flexStart ? .flexStart : nil, maxWait: maxWait, disableRetries: disableRetries)
    }
}

/// `swiftdock vertex run IMAGE --project P --region R [--wait] [--dry-run]`: runs the image
/// once as a Vertex AI CustomJob; the machine is released when it ends.
struct VertexRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run an image to completion as a Vertex AI CustomJob.",
        usage: Synopsis.Vertex.run)

    @OptionGroup var location: RegionOptions
    @OptionGroup var job: VertexJobOptions

    @Flag(help: "Wait for the job to end, showing its state; exit non-zero unless it succeeds.")
    var wait = false

    @OptionGroup var mode: DryRunOption

    @Flag(help: "Run the job's container here, from the local store in the rootless sandbox; send nothing to Google.")
    var local = false

    @Option(help: "With --local: the host directory standing in for Cloud Storage (/gcs/BUCKET/… is DIR/BUCKET/…; default $SWIFTDOCK_HOME/gcs).")
    var gcsDir: String?

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryCLIOptions

    func run() async throws {
        guard local || gcsDir == nil else { throw ValidationError("--gcs-dir goes with --local") }
        guard !(local && (wait || mode.dryRun)) else { throw ValidationError("--local runs here: drop --wait and --dry-run") }
        guard !(local && job.noPin) else { throw ValidationError("--no-pin goes with a job on Vertex AI, not --local") }
        let request = try job.request(image: local ? nil : try job.pinnedImage(storeRoot: store.root ?? ImageStore.defaultRoot()))
        let body = try usage { try request.customJob() }
        if local {
            let store = try self.store.openStore()
            let gcs = gcsDir ?? VertexLocalRun.defaultGCSDirectory(storeRoot: store.root)
            let status = try await VertexLocalRun(job: body, gcsDirectory: gcs).run(store: store, registry: registry)
            if let outputs = request.notebook?.outputs {
                let kept = try NotebookRun.fuseMountPath(outputs, root: gcs)
                printError("\(outputs) is \(kept) here")
            }
            throw ExitCode(status)
        }
        let (project, region) = try location.resolved()
        if let warning = request.registryWarning() { printError("WARNING: \(warning)") }
        if try mode.printed(body) { return }
        try await withGoogleAPI { client in
            let jobs = CustomJobs(client: client, project: project, region: region)
            let created = try await jobs.create(body)
            guard let name = created.name else { throw VertexError(.api, "Vertex AI created a CustomJob without a name") }
            print(name)
            printError("Created CustomJob \(name) (\(created.state ?? "state unknown"))")
            let id = CustomJob.id(ofName: name)
            if !id.isEmpty {
                printError("Console: https://console.cloud.google.com/vertex-ai/locations/\(region)/training/\(id)/cpu?project=\(project)")
            }
            if wait { try await waitForSuccess(of: name, in: jobs) }
        }
    }
}

/// Follows a CustomJob to its end, one stderr line per state change; throws unless it
/// succeeded, with the job's own error message. Ctrl-C stops the waiting, not the job, and says
/// how to cancel it.
func waitForSuccess(of name: String, in jobs: CustomJobs) async throws {
    let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    signal(SIGINT, SIG_IGN)
    interrupt.setEventHandler {
        printError("Stopped waiting; CustomJob \(name) keeps running on Vertex AI. "
            + "Cancel it with: swiftdock vertex cancel \(CustomJob.id(ofName: name)) --project \(jobs.project) --region \(jobs.region)")
        exit(130)
    }
    interrupt.resume()
    defer {
        interrupt.cancel()
        signal(SIGINT, SIG_DFL)
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "HH:mm:ss"
    // The job's log lines as they come, on stderr. Reading the log needs its own permission
    // (roles/logging.viewer); without it the wait goes on and says once why the lines are missing.
    let logging = CloudLogging(client: jobs.client, project: jobs.project)
    var cursor = LogCursor(jobID: CustomJob.id(ofName: name))
    var logProblem: String?
    let showLog = {
        guard logProblem == nil else { return }
        do {
            for entry in try await cursor.next(from: logging) { printError(entry.text) }
        } catch {
            logProblem = "\(error)"
            printError("WARNING: not showing the job's log: \(error)")
        }
    }
    let final = try await jobs.wait(for: name, schedule: pollSchedule, onPoll: showLog) { job in
        printError("\(formatter.string(from: Date())) \(job.state ?? "JOB_STATE_UNSPECIFIED")")
    }
    await showLog()
    try requireSuccess(final, name: name)
}

/// Throws unless `final`, CustomJob `name` as it ended, succeeded; the error carries the job's
/// own message.
func requireSuccess(_ final: CustomJob, name: String) throws {
    guard final.state == "JOB_STATE_SUCCEEDED" else {
        let reason = final.error?.message.map { ": " + VertexError.oneLine($0) } ?? ""
        throw VertexError(.failed, "CustomJob \(name) ended \(final.state ?? "without a state")\(reason)")
    }
}

/// `swiftdock vertex cancel JOB --project P --region R [--wait]`: cancels a CustomJob (its
/// numeric ID or full name), as `gcloud ai custom-jobs cancel` does.
struct VertexCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a running Vertex AI CustomJob.",
                                                    usage: Synopsis.Vertex.cancel)

    @OptionGroup var target: CustomJobTarget

    @Flag(help: "Wait until the job is cancelled.")
    var wait = false

    func run() async throws {
        try await target.with { api, name in
            let jobs = api.customJobs
            try await jobs.cancel(name)
            print(name)
            guard wait else { return }
            let final = try await jobs.wait(for: name, schedule: pollSchedule) { printError($0.state ?? "JOB_STATE_UNSPECIFIED") }
            guard final.state == "JOB_STATE_CANCELLED" else {
                throw VertexError(.failed, "CustomJob \(name) ended \(final.state ?? "without a state"), not cancelled")
            }
        }
    }
}
