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

    public static let defaultMachineType = "n1-standard-4"

    public init(image: String, machineType: String = Self.defaultMachineType, accelerator: String? = nil,
                command: [String] = [], args: [String] = [], environment: [String] = [], serviceAccount: String? = nil,
                displayName: String? = nil, timeout: String? = nil, notebook: NotebookRun? = nil) {
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
        if let timeout {
            guard timeout.hasSuffix("s"), let seconds = Double(timeout.dropLast()), seconds > 0 else {
                throw VertexError(.usage, "--timeout \(timeout): expected seconds such as 3600s")
            }
        }
        let container = CustomJob.ContainerSpec(
            imageUri: image, command: commandLine.command.isEmpty ? nil : commandLine.command,
            args: commandLine.args.isEmpty ? nil : commandLine.args, env: env.isEmpty ? nil : env)
        let spec = CustomJob.JobSpec(
            workerPoolSpecs: [.init(machineSpec: machine, containerSpec: container)],
            serviceAccount: serviceAccount, scheduling: timeout.map { .init(timeout: $0) })
        return CustomJob(displayName: displayName ?? Self.defaultDisplayName(for: reference), jobSpec: spec,
                         labels: ["created-by": "swiftdock"])
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
