/// The image configuration blob: runtime defaults, the layer diff IDs and the build history.
/// Field names follow the OCI image spec; the nested `config` uses Docker's capitalised keys,
/// which the OCI spec adopted, plus Docker's extensions (Healthcheck, Shell, OnBuild) that
/// BuildKit writes in OCI images too.
public struct ImageConfiguration: Codable, Hashable, Sendable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: ContainerConfig
    public var rootfs: RootFS
    public var history: [History]

    public init(created: String? = nil, author: String? = nil, platform: Platform,
                config: ContainerConfig = ContainerConfig(), rootfs: RootFS = RootFS(), history: [History] = []) {
        self.created = created
        self.author = author
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    public var platform: Platform {
        Platform(os: os, architecture: architecture, variant: variant)
    }

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        created = try c.decodeIfPresent(String.self, forKey: .created)
        author = try c.decodeIfPresent(String.self, forKey: .author)
        architecture = try c.decodeIfPresent(String.self, forKey: .architecture) ?? ""
        os = try c.decodeIfPresent(String.self, forKey: .os) ?? ""
        variant = try c.decodeIfPresent(String.self, forKey: .variant)
        config = try c.decodeIfPresent(ContainerConfig.self, forKey: .config) ?? ContainerConfig()
        rootfs = try c.decodeIfPresent(RootFS.self, forKey: .rootfs) ?? RootFS()
        history = try c.decodeIfPresent([History].self, forKey: .history) ?? []
    }
}

/// An empty JSON object, the value type of `ExposedPorts` and `Volumes` sets.
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}
}

/// Runtime defaults of a container started from the image.
public struct ContainerConfig: Codable, Hashable, Sendable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var argsEscaped: Bool?
    public var healthcheck: Healthcheck?
    public var shell: [String]?
    public var onBuild: [String]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint"
        case cmd = "Cmd", volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels"
        case stopSignal = "StopSignal", argsEscaped = "ArgsEscaped", healthcheck = "Healthcheck"
        case shell = "Shell", onBuild = "OnBuild"
    }

    /// The value of an environment variable in `Env`, if set.
    public func environmentValue(_ name: String) -> String? {
        for entry in env ?? [] {
            if let eq = entry.firstIndex(of: "="), entry[..<eq] == name {
                return String(entry[entry.index(after: eq)...])
            }
        }
        return nil
    }

    /// Sets or replaces a variable in `Env`, keeping the position of an existing entry.
    public mutating func setEnvironment(_ name: String, _ value: String) {
        var list = env ?? []
        let entry = "\(name)=\(value)"
        if let i = list.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            list[i] = entry
        } else {
            list.append(entry)
        }
        env = list
    }
}

/// Docker's HEALTHCHECK settings; durations are nanoseconds, as Go's time.Duration encodes them.
public struct Healthcheck: Codable, Hashable, Sendable {
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    public init(test: [String]?, interval: Int64? = nil, timeout: Int64? = nil,
                startPeriod: Int64? = nil, startInterval: Int64? = nil, retries: Int? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }

    enum CodingKeys: String, CodingKey {
        case test = "Test", interval = "Interval", timeout = "Timeout"
        case startPeriod = "StartPeriod", startInterval = "StartInterval", retries = "Retries"
    }
}

/// The ordered list of layer diff IDs (digests of the uncompressed tar streams).
public struct RootFS: Codable, Hashable, Sendable {
    public var type: String
    public var diffIDs: [Digest]

    public init(diffIDs: [Digest] = []) {
        self.type = "layers"
        self.diffIDs = diffIDs
    }

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }
}

/// One build step in the image history.
public struct History: Codable, Hashable, Sendable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    public init(created: String? = nil, createdBy: String? = nil, author: String? = nil,
                comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.author = author
        self.comment = comment
        self.emptyLayer = emptyLayer
    }

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }
}
