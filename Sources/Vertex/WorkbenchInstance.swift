import ImageModel

/// A Vertex AI Workbench instance (notebooks v2 `Instance`), as far as swiftdock writes or
/// reads it. The container image is split into repository and tag, as the API wants.
public struct WorkbenchInstance: Codable, Sendable, Equatable {
    public var gceSetup: GceSetup?
    public var labels: [String: String]?

    // Output only.
    public var name: String?
    public var state: String?
    public var proxyUri: String?
    public var createTime: String?

    public init(gceSetup: GceSetup, labels: [String: String]? = nil) {
        self.gceSetup = gceSetup
        self.labels = labels
    }

    public struct GceSetup: Codable, Sendable, Equatable {
        public var machineType: String?
        public var containerImage: ContainerImage?
        public var metadata: [String: String]?
        public var serviceAccounts: [ServiceAccount]?

        public init(machineType: String?, containerImage: ContainerImage?, metadata: [String: String]?,
                    serviceAccounts: [ServiceAccount]? = nil) {
            self.machineType = machineType
            self.containerImage = containerImage
            self.metadata = metadata
            self.serviceAccounts = serviceAccounts
        }
    }

    public struct ContainerImage: Codable, Sendable, Equatable {
        public var repository: String
        public var tag: String?
        public init(repository: String, tag: String?) {
            self.repository = repository
            self.tag = tag
        }
    }

    public struct ServiceAccount: Codable, Sendable, Equatable {
        public var email: String
        public init(email: String) { self.email = email }
    }
}

/// What `swiftdock vertex workbench create` was asked for.
public struct WorkbenchCreateRequest: Sendable, Equatable {
    public var name: String
    public var image: String
    public var machineType: String
    /// `gs://…` of a script the instance runs after it starts.
    public var postStartupScript: String?
    public var serviceAccount: String?
    /// A google-duration (`3600s`) after which an idle instance stops (metadata
    /// `idle-timeout-seconds`; Workbench's default is 10800 s).
    public var idleTimeout: String?

    /// The bases v2 custom containers must derive from.
    public static let supportedBases = [
        "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/workbench-container",
        "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/workbench-container-slim",
    ]

    public init(name: String, image: String, machineType: String = VertexRunRequest.defaultMachineType,
                postStartupScript: String? = nil, serviceAccount: String? = nil, idleTimeout: String? = nil) {
        self.idleTimeout = idleTimeout
        self.name = name
        self.image = image
        self.machineType = machineType
        self.postStartupScript = postStartupScript
        self.serviceAccount = serviceAccount
    }

    /// The instance body; checks the name, the reference and the script URI first.
    public func instance() throws -> WorkbenchInstance {
        try Self.checkName(name)
        let reference: Reference
        do {
            reference = try Reference(parsing: image)
        } catch {
            throw VertexError(.usage, "--image \(image): \(error)")
        }
        guard reference.digest == nil else {
            throw VertexError(.usage, "--image \(image): Workbench takes a repository and a tag, not a digest")
        }
        var metadata: [String: String]?
        if let postStartupScript {
            guard postStartupScript.hasPrefix("gs://"), postStartupScript.count > 5 else {
                throw VertexError(.usage, "--post-startup-script \(postStartupScript): must be a gs:// URI (Workbench does not take inline scripts)")
            }
            metadata = ["post-startup-script": postStartupScript, "post-startup-script-behavior": "run_every_start"]
        }
        if let idleTimeout {
            // The metadata value is a whole number of seconds.
            guard idleTimeout.hasSuffix("s"), let seconds = Int(idleTimeout.dropLast()), seconds > 0 else {
                throw VertexError(.usage, "--idle-timeout \(idleTimeout): expected whole seconds such as 3600s")
            }
            metadata = (metadata ?? [:]).merging(["idle-timeout-seconds": String(seconds)]) { $1 }
        }
        let image = WorkbenchInstance.ContainerImage(repository: reference.repository, tag: reference.tag ?? Reference.defaultTag)
        return WorkbenchInstance(
            gceSetup: .init(machineType: machineType, containerImage: image, metadata: metadata,
                            serviceAccounts: serviceAccount.map { [.init(email: $0)] }),
            labels: ["created-by": "swiftdock"])
    }

    /// Instance IDs are Compute Engine names: a lowercase letter, then up to 62 lowercase
    /// letters, digits or hyphens, not ending in a hyphen.
    public static func checkName(_ name: String) throws {
        let allowed = name.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        guard (1...63).contains(name.count), allowed, name.first!.isLetter, name.last != "-" else {
            throw VertexError(.usage, "instance name \"\(name)\": use a lowercase letter, then lowercase letters, digits or hyphens (63 at most)")
        }
    }

    /// Whether a base image name (`org.opencontainers.image.base.name`) is one Workbench
    /// supports.
    public static func isSupportedBase(_ base: String) -> Bool {
        guard let reference = try? Reference(parsing: base) else { return false }
        return supportedBases.contains(reference.repository)
    }
}
