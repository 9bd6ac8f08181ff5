/// A Vertex AI CustomJob (`GoogleCloudAiplatformV1CustomJob`): the request body of
/// `customJobs.create` and, with the output fields filled in, its response and `get`.
/// Only what swiftdock sets or reads is modelled; JSON names are Google's.
public struct CustomJob: Codable, Sendable, Equatable {
    public var displayName: String
    public var jobSpec: JobSpec
    public var labels: [String: String]?

    // Output only.
    public var name: String?
    public var state: String?
    public var error: GoogleStatus?
    public var createTime: String?
    public var startTime: String?
    public var endTime: String?

    public init(displayName: String, jobSpec: JobSpec, labels: [String: String]? = nil) {
        self.displayName = displayName
        self.jobSpec = jobSpec
        self.labels = labels
    }

    public struct JobSpec: Codable, Sendable, Equatable {
        public var workerPoolSpecs: [WorkerPoolSpec]
        public var serviceAccount: String?
        public var scheduling: Scheduling?

        public init(workerPoolSpecs: [WorkerPoolSpec], serviceAccount: String? = nil, scheduling: Scheduling? = nil) {
            self.workerPoolSpecs = workerPoolSpecs
            self.serviceAccount = serviceAccount
            self.scheduling = scheduling
        }
    }

    public struct Scheduling: Codable, Sendable, Equatable {
        /// A google-duration such as `"3600s"`.
        public var timeout: String?
        /// `SPOT` (preemptible, cheaper) or `FLEX_START` (Dynamic Workload Scheduler: waits
        /// for capacity, then runs); nil is Vertex's default, on demand.
        public var strategy: String?
        /// With `FLEX_START`: how long the job may wait for its machines (google-duration).
        public var maxWaitDuration: String?
        /// No retry after an internal error once the job runs (a notebook that writes to Cloud
        /// Storage should not run twice).
        public var disableRetries: Bool?

        public init(timeout: String? = nil, strategy: String? = nil, maxWaitDuration: String? = nil, disableRetries: Bool? = nil) {
            self.timeout = timeout
            self.strategy = strategy
            self.maxWaitDuration = maxWaitDuration
            self.disableRetries = disableRetries
        }

        /// Nil when nothing is set, so the body leaves `scheduling` out.
        var orNilWhenEmpty: Scheduling? { self == Scheduling() ? nil : self }
    }

    public struct WorkerPoolSpec: Codable, Sendable, Equatable {
        public var machineSpec: MachineSpec
        /// int64 as a JSON string, as Google's JSON mapping writes it.
        public var replicaCount: String
        public var containerSpec: ContainerSpec

        public init(machineSpec: MachineSpec, replicaCount: String = "1", containerSpec: ContainerSpec) {
            self.machineSpec = machineSpec
            self.replicaCount = replicaCount
            self.containerSpec = containerSpec
        }
    }

    public struct MachineSpec: Codable, Sendable, Equatable {
        public var machineType: String
        public var acceleratorType: String?
        public var acceleratorCount: Int?

        public init(machineType: String, acceleratorType: String? = nil, acceleratorCount: Int? = nil) {
            self.machineType = machineType
            self.acceleratorType = acceleratorType
            self.acceleratorCount = acceleratorCount
        }
    }

    public struct ContainerSpec: Codable, Sendable, Equatable {
        public var imageUri: String
        public var command: [String]?
        public var args: [String]?
        public var env: [EnvVar]?

        public init(imageUri: String, command: [String]? = nil, args: [String]? = nil, env: [EnvVar]? = nil) {
            self.imageUri = imageUri
            self.command = command
            self.args = args
            self.env = env
        }
    }

    public struct EnvVar: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// States after which the job never changes again.
    public static let finalStates: Set<String> = [
        "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED",
        "JOB_STATE_PARTIALLY_SUCCEEDED",
    ]

    /// A job's ID: the last segment of its resource name `projects/…/customJobs/ID` (empty
    /// when the name has none). Logs, the console and `vertex cancel` go by it.
    public static func id(ofName name: String) -> String {
        String(name.split(separator: "/").last ?? "")
    }
}

/// `google.rpc.Status`: an operation's or job's error.
public struct GoogleStatus: Codable, Sendable, Equatable {
    public var code: Int?
    public var message: String?

    public init(code: Int?, message: String?) {
        self.code = code
        self.message = message
    }
}
