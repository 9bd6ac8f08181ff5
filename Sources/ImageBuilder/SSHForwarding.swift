import Foundation
import ProcessWaiting

/// One `--ssh` flag as docker buildx spells it: `default`, `default=SOCKET`, `ID=KEY[,KEY…]`
/// (util/buildflags/ssh.go: the id before the first `=`, then comma-separated paths).
public struct SSHSpec: Sendable, Equatable {
    public var id: String
    public var paths: [String]

    public static func parse(_ text: String) throws -> SSHSpec {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty else { throw BuildSecretError("--ssh \(text): missing ID (use default or ID=SOCKET|KEY…)") }
        let paths = parts.count > 1 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
        return SSHSpec(id: parts[0], paths: paths == [""] ? [] : paths)
    }

    public enum Source: Sendable, Equatable {
        /// An agent's socket, forwarded as it is.
        case socket(String)
        /// Private key files, served by an `ssh-agent` swiftdock starts for the build.
        case keys([String])
    }

    /// Where the agent comes from, BuildKit's rule (session/sshforward/sshprovider,
    /// NewSSHAgentProvider/toAgentSource): no path means `$SSH_AUTH_SOCK`; a path that is a socket
    /// is the agent; any other path is a key file; one socket alone, never mixed with keys.
    public func source(environment: [String: String]) throws -> Source {
        var paths = self.paths
        if paths.isEmpty {
            guard let socket = environment["SSH_AUTH_SOCK"], !socket.isEmpty else {
                throw BuildSecretError("--ssh \(id): SSH_AUTH_SOCK is not set (start ssh-agent, or give a socket or key files: --ssh \(id)=PATH)")
            }
            paths = [socket]
        }
        var sockets: [String] = [], keys: [String] = []
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw BuildSecretError("--ssh \(id): \(path): \(String(cString: strerror(errno)))")
            }
            switch st.st_mode & S_IFMT {
            case S_IFSOCK: sockets.append(path)
            case S_IFREG: keys.append(path)
            default: throw BuildSecretError("--ssh \(id): \(path) is neither an agent socket nor a key file")
            }
        }
        if sockets.count > 1 { throw BuildSecretError("--ssh \(id): only a single socket is allowed") }
        if !sockets.isEmpty && !keys.isEmpty { throw BuildSecretError("--ssh \(id): invalid combination of keys and sockets") }
        return sockets.first.map(Source.socket) ?? .keys(keys)
    }
}

/// The agent sockets of one build, by `--ssh` id: users' sockets as they are, and for key files
/// an `ssh-agent` started for the build (socket in a private 0700 directory), which `stop` kills.
/// ssh-agent and ssh-add are OpenSSH's own (openssh-client): swiftdock neither parses nor holds
/// private keys itself.
///
/// `@unchecked Sendable` is safe: `sockets` and `agents` are written only in `start`, before
/// the build shares the value, and in `stop`, after every step has finished; in between
/// RUN steps only read `sockets`.
final class SSHForwarding: @unchecked Sendable {
    private(set) var sockets: [String: String] = [:]
    private var agents: [(process: Process, exit: ProcessExit, directory: String)] = []

    static func start(_ specs: [SSHSpec], environment: [String: String]) throws -> SSHForwarding {
        let forwarding = SSHForwarding()
        do {
            for spec in specs {
                guard forwarding.sockets[spec.id] == nil else { throw BuildSecretError("--ssh \(spec.id): invalid duplicate ID") }
                switch try spec.source(environment: environment) {
                case .socket(let path): forwarding.sockets[spec.id] = path
                case .keys(let keys): forwarding.sockets[spec.id] = try forwarding.startAgent(id: spec.id, keys: keys, environment: environment)
                }
            }
        } catch {
            forwarding.stop()
            throw error
        }
        return forwarding
    }

    /// `ssh-agent -D -a SOCKET` in the foreground of its own process (killed by `stop`), then
    /// `ssh-add` of each key with no terminal and no askpass: a passphrase-protected key fails
    /// with ssh-add's own one-line reason instead of prompting.
    private func startAgent(id: String, keys: [String], environment: [String: String]) throws -> String {
        let base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/swiftdock-ssh.XXXXXX".utf8CString)
        guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            throw BuildSecretError("--ssh \(id): cannot create a directory for the agent in \(base): \(String(cString: strerror(errno)))")
        }
        let socket = directory + "/agent.sock"
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: try Self.tool("ssh-agent", environment: environment, id: id))
        agent.arguments = ["-D", "-a", socket]
        agent.standardInput = FileHandle.nullDevice
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        let agentExit: ProcessExit
        do { agentExit = try ProcessExit.start(agent) } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw BuildSecretError("--ssh \(id): starting ssh-agent: \(error.localizedDescription)")
        }
        agents.append((agent, agentExit, directory))
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard agent.isRunning, Date() < deadline else {
                throw BuildSecretError("--ssh \(id): ssh-agent did not create its socket \(socket)")
            }
            usleep(10_000)
        }
        let add = Process()
        add.executableURL = URL(fileURLWithPath: try Self.tool("ssh-add", environment: environment, id: id))
        add.arguments = ["-q"] + keys
        var env = environment.filter { $0.key != "DISPLAY" && $0.key != "SSH_ASKPASS" }
        env["SSH_AUTH_SOCK"] = socket
        env["SSH_ASKPASS_REQUIRE"] = "never"
        add.environment = env
        let errors = Pipe()
        add.standardInput = FileHandle.nullDevice
        add.standardOutput = FileHandle.nullDevice
        add.standardError = errors
        let addExit: ProcessExit
        do { addExit = try ProcessExit.start(add) } catch { throw BuildSecretError("--ssh \(id): running ssh-add: \(error.localizedDescription)") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        addExit.wait()
        guard add.terminationStatus == 0 else {
            let line = String(decoding: message, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit status \(add.terminationStatus)"
            throw BuildSecretError("--ssh \(id): ssh-add \(keys.joined(separator: " ")): \(line)")
        }
        return socket
    }

    /// Kills the agents swiftdock started and removes their sockets' directories. SIGKILL, not
    /// SIGTERM: a child started from a Swift process inherits a signal mask that blocks SIGTERM,
    /// which ssh-agent would then never see.
    func stop() {
        for (process, exit, directory) in agents {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            exit.wait()
            try? FileManager.default.removeItem(atPath: directory)
        }
        agents = []
    }

    private static func tool(_ name: String, environment: [String: String], id: String) throws -> String {
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"]
        for directory in path where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw BuildSecretError("--ssh \(id): \(name) not found on PATH (install openssh-client)")
    }
}
