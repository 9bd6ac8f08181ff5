import ImageModel

/// What `swiftdock vertex run` was asked for, turned into the CustomJob it creates: one worker
/// pool, one replica, the image exactly as given.
public struct VertexRunRequest: Sendable, Equatable {
    public var image: String
    public var machineType: String
    /// `TYPE[:COUNT]`, for example `NVIDIA_TESLA_T4:1`.
    public var accelerator: String?
    /// Each element overrides the image's ENTRYPOINT, in order.
    public var command: [String]
    /// Each element overrides the image's CMD, in order.
    public var args: [String]
    /// `KEY=VALUE` pairs.
    public var environment: [String]
    public var serviceAccount: String?
    public var displayName: String?
    /// A google-duration (`"3600s"`) after which Vertex stops the job.
    public var timeout: String?
    public var notebook: NotebookRun?
    /// Where Vertex finds the machines: on demand (nil), Spot, or flex-start.
    public var strategy: Strategy?
    /// With flex-start: how long to wait for capacity (google-duration).
    public var maxWait: String?
    public var disableRetries: Bool

    public enum Strategy: String, Sendable, Equatable {
        case spot = "SPOT"
        case flexStart = "FLEX_START"
    }

    public static let defaultMachineType = "n1-standard-4"

    public init(image: String, machineType: String = Self.defaultMachineType, accelerator: String? = nil,
                command: [String] = [], args: [String] = [], environment: [String] = [], serviceAccount: String? = nil,
                displayName: String? = nil, timeout: String? = nil, notebook: NotebookRun? = nil,
                strategy: Strategy? = nil, maxWait: String? = nil, disableRetries: Bool = false) {
        self.image = image
        self.machineType = machineType
        self.accelerator = accelerator
        self.command = command
        self.args = args
        self.environment = environment
        self.serviceAccount = serviceAccount
        self.displayName = displayName
        self.timeout = timeout
        self.notebook = notebook
        self.strategy = strategy
        self.maxWait = maxWait
        self.disableRetries = disableRetries
    }

    /// Accelerator types Vertex AI knows (the MachineSpec enum of aiplatform v1, 20261106).
    public static let acceleratorTypes: Set<String> = [
        "NVIDIA_TESLA_K80", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P4", "NVIDIA_TESLA_T4",
        "NVIDIA_TESLA_A100", "NVIDIA_A100_80GB", "NVIDIA_L4", "NVIDIA_H100_80GB", "NVIDIA_H100_MEGA_80GB",
        "NVIDIA_H200_141GB", "NVIDIA_B200", "NVIDIA_GB200", "NVIDIA_RTX_PRO_6000", "TPU_V2", "TPU_V3",
        "TPU_V4_POD", "TPU_V5_LITEPOD",
    ]

    /// The parsed image reference; an error when it does not parse.
    public func reference() throws -> Reference {
        do {
            return try Reference(parsing: image)
        } catch {
            throw VertexError(.usage, "image reference \"\(image)\": \(error)")
        }
    }

    /// The request body. Checks everything it can without asking Google.
    public func customJob() throws -> CustomJob {
        let reference = try reference()
        guard notebook == nil || (command.isEmpty && args.isEmpty) else {
            throw VertexError(.usage, "--notebook builds the container command itself; drop --command and --arg")
        }
        var machine = CustomJob.MachineSpec(machineType: machineType)
        if let accelerator {
            let parts = accelerator.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let type = parts[0].uppercased()
            guard Self.acceleratorTypes.contains(type) else {
                throw VertexError(.usage, "--accelerator \(accelerator): unknown type (for example NVIDIA_TESLA_T4:1)")
            }
            var count = 1
            if parts.count > 1 {
                guard parts.count == 2, let n = Int(parts[1]), n > 0 else {
                    throw VertexError(.usage, "--accelerator \(accelerator): count must be a positive number (TYPE[:N])")
                }
                count = n
            }
            machine.acceleratorType = type
            machine.acceleratorCount = count
        }
        var env: [CustomJob.EnvVar] = []
        for pair in environment {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw VertexError(.usage, "--env \(pair): expected KEY=VALUE")
            }
            env.append(.init(name: String(pair[..<equals]), value: String(pair[pair.index(after: equals)...])))
        }
        var commandLine = (command: command, args: args)
        if let notebook { commandLine = try notebook.containerCommand() }
        try Self.checkDuration(timeout, flag: "--timeout")
        try Self.checkDuration(maxWait, flag: "--max-wait")
        guard maxWait == nil || strategy == .flexStart else {
            throw VertexError(.usage, "--max-wait goes with --flex-start")
        }
        let container = CustomJob.ContainerSpec(
            imageUri: image, command: commandLine.command.isEmpty ? nil : commandLine.command,
            args: commandLine.args.isEmpty ? nil : commandLine.args, env: env.isEmpty ? nil : env)
        let spec = CustomJob.JobSpec(
            workerPoolSpecs: [.init(machineSpec: machine, containerSpec: container)],
            serviceAccount: serviceAccount,
            scheduling: CustomJob.Scheduling(timeout: timeout, strategy: strategy?.rawValue, maxWaitDuration: maxWait,
                                             disableRetries: disableRetries ? true : nil).orNilWhenEmpty)
        return CustomJob(displayName: displayName ?? Self.defaultDisplayName(for: reference), jobSpec: spec,
                         labels: ["created-by": "swiftdock"])
    }

    /// A google-duration in seconds (`3600s`), as Vertex's JSON mapping writes it.
    static func checkDuration(_ value: String?, flag: String) throws {
        guard let value else { return }
        guard value.hasSuffix("s"), let seconds = Double(value.dropLast()), seconds > 0, seconds.isFinite else {
            throw VertexError(.usage, "\(flag) \(value): expected seconds such as 3600s")
        }
    }

    /// `swiftdock-IMAGE`, from the repository's last component (128 characters at most).
    static func defaultDisplayName(for reference: Reference) -> String {
        let last = reference.path.split(separator: "/").last.map(String.init) ?? reference.path
        return String(("swiftdock-" + last).prefix(128))
    }

    /// Where Vertex AI can pull from: Artifact Registry, Container Registry or Docker Hub.
    /// Anything else gets a warning (private registries outside Google Cloud cannot be used).
    public func registryWarning() -> String? {
        guard let reference = try? reference() else { return nil }
        let host = reference.domain.lowercased()
        if host.hasSuffix(".pkg.dev") || host == "gcr.io" || host.hasSuffix(".gcr.io") || host == Reference.defaultDomain {
            return nil
        }
        return "Vertex AI pulls images from Artifact Registry (*.pkg.dev), Container Registry or Docker Hub; "
            + "\(host) may not be reachable from it"
    }
}
