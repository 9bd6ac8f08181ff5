import ImageModel

/// The process a container runs: argv, environment, working directory and user, worked out
/// once from an image's config and the overrides given — by `swiftdock run` (docker's flags),
/// `vertex run --local` (Vertex's command/args) and the builder's RUN alike, so the three
/// cannot drift apart. Docker's rules are the reference; BuildKit's where a build differs.
public struct ProcessModel: Sendable, Hashable {
    /// The PATH a process gets when its environment sets none (docker's and BuildKit's
    /// default on Linux; also what BuildKit writes into an image built `FROM scratch`).
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// What docker's `run -t` sets TERM to (moby's daemon, whatever the client's terminal is).
    public static let terminalType = "TERM=xterm"

    /// Where the command line comes from.
    public enum Command: Sendable, Hashable {
        /// The image's ENTRYPOINT and CMD under docker's override rules: a given `entrypoint`
        /// replaces ENTRYPOINT and drops CMD (`--entrypoint ""` is `[]`); given `arguments`
        /// replace CMD. Vertex's `command`/`args` follow the same rules.
        case image(entrypoint: [String]?, arguments: [String]?)
        /// A RUN step's argv, as the Dockerfile gives it (a shell form already wrapped).
        case explicit([String])
    }

    /// What is asked for, before the image's users are consulted.
    public struct Request: Sendable, Hashable {
        /// The image's config: Entrypoint, Cmd, Env, User, WorkingDir.
        public var image: ContainerConfig
        public var command: Command
        /// Entries set only when the image's Env lacks the name (RUN's build args).
        public var defaultEnvironment: [String]
        /// `-e`: `K=V` replaces K, a bare `K` unsets it (see `ProcessEnvironment.applying`).
        public var environment: [String]
        /// Replaces the image's User when given.
        public var user: String?
        /// Replaces the image's WorkingDir when given.
        public var workingDirectory: String?
        /// `HOSTNAME=` this, unless the Env or `-e` sets it: docker's `run` does; BuildKit's RUN
        /// sets none (nil).
        public var hostname: String?
        /// A terminal is allocated (`run -t`): `TERM=xterm` unless the image's Env or `-e` sets
        /// TERM, and a bare `-e TERM` (unset here) removes it — moby's CreateDaemonEnvironment
        /// puts TERM=xterm among its defaults and lets the container's Env replace or unset it.
        public var terminal: Bool

        public init(image: ContainerConfig, command: Command, defaultEnvironment: [String] = [],
                    environment: [String] = [], user: String? = nil, workingDirectory: String? = nil,
                    hostname: String? = nil, terminal: Bool = false) {
            self.image = image
            self.command = command
            self.defaultEnvironment = defaultEnvironment
            self.environment = environment
            self.user = user
            self.workingDirectory = workingDirectory
            self.hostname = hostname
            self.terminal = terminal
        }
    }

    /// Never empty.
    public var argv: [String]
    /// `K=V`, PATH and HOME always set.
    public var environment: [String]
    /// Absolute and clean.
    public var workingDirectory: String
    public var user: ProcessUser

    /// Resolves `request` against the image's passwd and group (`users`).
    /// Throws `ProcessModelError`, `UserLookupError` or `NumericID.OutOfRange`.
    public init(_ request: Request, users: UserDatabase) throws {
        argv = try Self.argv(request.command, image: request.image)
        user = try users.processUser(request.user ?? request.image.user ?? "")
        workingDirectory = try Self.workingDirectory(request.workingDirectory ?? request.image.workingDir)
        var environment = ProcessEnvironment.addingMissing(request.defaultEnvironment, to: request.image.env ?? [])
        if request.terminal { environment = ProcessEnvironment.addingMissing([Self.terminalType], to: environment) }
        environment = try ProcessEnvironment.applying(request.environment, to: environment)
        if !ProcessEnvironment.contains("PATH", in: environment) { environment.append("PATH=\(Self.defaultPath)") }
        if !ProcessEnvironment.contains("HOME", in: environment) { environment.append("HOME=\(user.home)") }
        if let hostname = request.hostname, !ProcessEnvironment.contains("HOSTNAME", in: environment) {
            environment.append("HOSTNAME=\(hostname)")
        }
        self.environment = environment
    }

    /// docker's merge of the overrides with the image's ENTRYPOINT and CMD.
    static func argv(_ command: Command, image: ContainerConfig) throws -> [String] {
        let argv: [String]
        switch command {
        case .explicit(let given):
            argv = given
        case .image(let entrypoint?, let arguments):
            argv = entrypoint + (arguments ?? [])
        case .image(nil, let arguments):
            argv = (image.entrypoint ?? []) + (arguments ?? image.cmd ?? [])
        }
        guard !argv.isEmpty else { throw ProcessModelError.noCommand }
        return argv
    }

    /// The given (or the image's) directory, `/` when neither is set; refused unless absolute
    /// (docker's check), then cleaned lexically (`/a/../b/` → `/b`).
    static func workingDirectory(_ given: String?) throws -> String {
        guard let given, !given.isEmpty else { return "/" }
        guard given.hasPrefix("/") else { throw ProcessModelError.relativeWorkingDirectory(given) }
        var parts: [Substring] = []
        for part in given.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}
