import CSandbox
import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum SandboxNetwork: Sendable {
    /// Share the host's network (`--network=host`).
    case host
    /// A new network namespace with only `lo`, brought up.
    case none
    /// A new network namespace with outbound access through slirp4netns and without the host's
    /// loopback: BuildKit's default (see `Sandbox.privateNetwork()`).
    case `private`
}

public enum SandboxStdio: Sendable {
    /// The command gets this process's stdin, stdout and stderr.
    case inherit
    /// stdin is /dev/null; stdout and stderr are read through pipes and delivered chunk by chunk
    /// (never two calls at once).
    case capture(@Sendable (_ isError: Bool, _ bytes: [UInt8]) -> Void)
}

/// An owner to give a file of a `SandboxRoot.directory` root, inside the user namespace (where
/// an unprivileged user can give files to the image's other users).
public struct SandboxOwner: Sendable, Hashable {
    /// Relative to the root directory; never through a symlink (the last component is changed
    /// itself).
    public var path: String
    /// Container ids.
    public var uid: UInt32
    public var gid: UInt32
    /// Permission bits set again afterwards when they hold setuid/setgid (which chown clears).
    public var mode: UInt32
    public init(path: String, uid: UInt32, gid: UInt32, mode: UInt32) {
        self.path = path
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

/// What the command sees as `/`.
public enum SandboxRoot: Sendable {
    /// overlayfs: read-only `lowerDirs` (top first, at least one); every change lands in the
    /// existing empty `upperDir`; `workDir` is an existing empty directory on the same file
    /// system as `upperDir`.
    case overlay(lowerDirs: [String], upperDir: String, workDir: String)
    /// The directory itself, changed in place (copy-and-compare isolation, where overlayfs in a
    /// user namespace is refused); `owners` are applied before the command starts. It must
    /// already hold the mount points (`/proc`, `/dev`, …) to keep them out of a later diff.
    case directory(String, owners: [SandboxOwner])
}

/// How RUN steps get a root file system they can change.
public enum SandboxIsolation: String, Sendable {
    /// An overlay over the layers; its upper dir is the diff.
    case overlay
    /// A copy of the layers, compared with them afterwards.
    case copy
}

public struct SandboxSpec: Sendable {
    public var root: SandboxRoot
    /// `argv[0]` is looked up in the container's PATH (from `environment`) unless it contains a `/`.
    public var argv: [String]
    /// "K=V"; a default PATH is added when missing.
    public var environment: [String]
    /// Absolute; created (owned by uid:gid) when missing.
    public var workingDirectory: String
    public var uid: UInt32
    public var gid: UInt32
    public var supplementaryGroups: [UInt32]
    public var network: SandboxNetwork
    /// Applied after the root file system is mounted.
    public var mounts: [SandboxMount]
    public var hostname: String
    public var stdio: SandboxStdio

    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public init(
        root: SandboxRoot, argv: [String],
        environment: [String] = ["PATH=\(SandboxSpec.defaultPath)"], workingDirectory: String = "/",
        uid: UInt32 = 0, gid: UInt32 = 0, supplementaryGroups: [UInt32] = [],
        network: SandboxNetwork = .host, mounts: [SandboxMount] = [], hostname: String = "swiftdock",
        stdio: SandboxStdio = .inherit
    ) {
        self.root = root
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
        self.network = network
        self.mounts = mounts
        self.hostname = hostname
        self.stdio = stdio
    }
}

public struct SandboxSupport: Sendable {
    public var available: Bool
    /// One line: what is missing and the way out.
    public var reason: String?
    /// How RUN steps get their root when available.
    public var isolation: SandboxIsolation
    /// One line when `auto` fell back to copying: why overlay was not used.
    public var fallback: String?
    public init(available: Bool, reason: String?, isolation: SandboxIsolation = .overlay, fallback: String? = nil) {
        self.available = available
        self.reason = reason
        self.isolation = isolation
        self.fallback = fallback
    }
}

/// One line: what failed (which syscall, which path) and the errno text.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The helper's exit status when it reported the failure: 127 when the command was not
    /// found, 126 when it could not be executed (docker's codes), 125 for the sandbox's own
    /// failures; nil when the helper could not be started.
    public var status: Int32?
    public init(_ message: String, status: Int32? = nil) {
        self.message = message
        self.status = status
    }
    public var description: String { message }
}

public enum Sandbox {
    /// Probes once whether user namespaces work here and how RUN gets its root: overlayfs inside
    /// the user namespace, or a copy where that is refused (see `isolationVariable`).
    public static func support() -> SandboxSupport { probed }

    /// Runs `spec.argv` in the sandbox; returns its exit status (killed by signal N → 128+N).
    /// Throws `SandboxError` when the sandbox could not be set up or the command not executed.
    /// Cancelling the task kills the sandbox (and every process in it).
    public static func run(_ spec: SandboxSpec) async throws -> Int32 {
        let process = SandboxProcess()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Int32, Error>) in
                let thread = Thread {
                    do { cont.resume(returning: try runBlocking(spec, probe: false, process: process)) }
                    catch { cont.resume(throwing: error) }
                }
                thread.name = "swiftdock-sandbox"
                thread.start()
            }
        } onCancel: {
            process.kill()
        }
    }

    /// The paths the sandbox mounts over in every root (besides `SandboxSpec.mounts`), relative
    /// to it. A `SandboxRoot.directory` should hold them already.
    public static let ownMountPoints: [(path: String, isDirectory: Bool)] = [
        ("proc", true), ("dev", true), ("sys", true), ("etc/resolv.conf", false), ("etc/hosts", false),
    ]

    /// `auto` (default: overlay where the kernel allows it in a user namespace, else copy),
    /// `overlay` or `copy`.
    public static let isolationVariable = "SWIFTDOCK_RUN_ISOLATION"

    private static let probed: SandboxSupport = choose(
        requested: ProcessInfo.processInfo.environment[isolationVariable] ?? "",
        probe: { probeOnce($0, way: "build with --run=record to record RUN steps without executing them") })

    /// The isolation for a `SWIFTDOCK_RUN_ISOLATION` value, given how each one probes: `auto`
    /// takes overlay, falling back to copying only when overlay itself was refused (not when
    /// user namespaces are missing altogether, which copying cannot fix).
    static func choose(requested: String, probe: (SandboxIsolation) -> SandboxSupport) -> SandboxSupport {
        switch requested.lowercased() {
        case "overlay":
            return probe(.overlay)
        case "copy":
            return probe(.copy)
        case "", "auto":
            let overlay = probe(.overlay)
            guard !overlay.available, overlay.reason?.hasPrefix("overlayfs") == true else { return overlay }
            var copy = probe(.copy)
            if copy.available { copy.fallback = overlay.reason.map { String($0.prefix { $0 != ";" }) } }
            return copy
        default:
            return SandboxSupport(available: false, reason: "\(isolationVariable)=\(requested) is not one of auto, overlay, copy")
        }
    }

    /// Runs the helper up to the point where the root is mounted.
    private static func probeOnce(_ isolation: SandboxIsolation, way: String) -> SandboxSupport {
        let base = (ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 }) ?? "/tmp"
        var template = Array("\(base)/swiftdock-sandbox-probe.XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            return SandboxSupport(available: false, reason: "cannot create a probe directory in \(base): \(String(cString: strerror(errno))); \(way)")
        }
        defer {
            chmod("\(dir)/work/work", 0o700)  // overlay leaves it mode 000; unprivileged removal needs to list it
            try? FileManager.default.removeItem(atPath: dir)
        }
        for sub in ["lower", "upper", "work"] { mkdir("\(dir)/\(sub)", 0o755) }
        let root: SandboxRoot = isolation == .overlay
            ? .overlay(lowerDirs: ["\(dir)/lower"], upperDir: "\(dir)/upper", workDir: "\(dir)/work")
            : .directory("\(dir)/lower", owners: [])
        let spec = SandboxSpec(root: root, argv: ["/bin/true"])
        do {
            let status = try runBlocking(spec, probe: true, process: SandboxProcess())
            if status == 0 { return SandboxSupport(available: true, reason: nil, isolation: isolation) }
            return SandboxSupport(available: false, reason: "the sandbox probe exited with status \(status); \(way)")
        } catch let error as SandboxError {
            let m = error.message
            if m.contains("unshare") || m.contains("ID mapping") {
                return SandboxSupport(available: false, reason: "user namespaces are not available here (\(m)); \(way)")
            }
            if m.contains("overlay") {
                return SandboxSupport(available: false, reason: "overlayfs in a user namespace is not available here (\(m)); \(way), or with \(isolationVariable)=copy to copy the root file system for each RUN instead")
            }
            return SandboxSupport(available: false, reason: "\(m); \(way)")
        } catch {
            return SandboxSupport(available: false, reason: "\(error); \(way)")
        }
    }

    static func serialize(_ spec: SandboxSpec, probe: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        func add(_ key: Character, _ value: String) throws {
            if value.utf8.contains(0) { throw SandboxError("sandbox: NUL byte in \(value.debugDescription)") }
            out.append(key.asciiValue!)
            out.append(contentsOf: value.utf8)
            out.append(0)
        }
        guard !spec.argv.isEmpty || probe else { throw SandboxError("sandbox: empty argv") }
        guard spec.workingDirectory.hasPrefix("/") else { throw SandboxError("sandbox: working directory \(spec.workingDirectory) is not absolute") }
        for m in spec.mounts where !m.target.hasPrefix("/") {
            throw SandboxError("sandbox: mount target \(m.target) is not absolute")
        }
        switch spec.root {
        case .overlay(let lowerDirs, let upperDir, let workDir):
            guard !lowerDirs.isEmpty else { throw SandboxError("sandbox: no lower directory (a RUN needs at least one layer)") }
            for l in lowerDirs { try add("L", absolute(l)) }
            try add("U", absolute(upperDir))
            try add("W", absolute(workDir))
        case .directory(let directory, let owners):
            try add("R", absolute(directory))
            for o in owners { try add("O", "\(o.uid):\(o.gid):\(String(o.mode, radix: 8)):\(o.path)") }
        }
        for a in spec.argv { try add("A", a) }
        var env = spec.environment
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.append("PATH=\(SandboxSpec.defaultPath)") }
        for e in env { try add("E", e) }
        try add("C", spec.workingDirectory)
        try add("u", String(spec.uid))
        try add("g", String(spec.gid))
        for g in spec.supplementaryGroups { try add("G", String(g)) }
        switch spec.network {
        case .host: try add("N", "host")
        case .none: try add("N", "none")
        case .private:
            let net = privateNetwork()
            guard let helper = net.helper else { throw SandboxError("sandbox: no private network: \(net.reason ?? "?")") }
            try add("N", "private")
            try add("n", helper)
        }
        try add("H", spec.hostname)
        for m in spec.mounts {
            if let secret = m.secret {
                try add("s", m.target)
                try add("d", hex(secret.content))
                try add("M", "\(String(secret.mode, radix: 8)):\(secret.uid):\(secret.gid)")
                continue
            }
            try add("m", absolute(m.root))
            try add("p", m.path)
            try add("t", m.target)
            try add("r", m.readOnly ? "1" : "0")
            if let scratch = m.scratch, !m.readOnly {
                let scratch = absolute(scratch)
                for sub in ["upper", "work"] where mkdir("\(scratch)/\(sub)", 0o755) != 0 && errno != EEXIST {
                    throw SandboxError("sandbox: mkdir \(scratch)/\(sub): \(String(cString: strerror(errno)))")
                }
                try add("o", scratch + "/upper")
                try add("x", scratch + "/work")
            }
        }
        if probe { try add("P", "1") }
        return out
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    static func runBlocking(_ spec: SandboxSpec, probe: Bool, process: SandboxProcess) throws -> Int32 {
        let data = try serialize(spec, probe: probe)
        var fds: (Int32, Int32, Int32) = (0, 1, 2)
        var toClose: [Int32] = []
        var readers: [(fd: Int32, isError: Bool)] = []
        var callback: (@Sendable (Bool, [UInt8]) -> Void)?
        defer { for fd in toClose { close(fd) } }
        if case .capture(let cb) = spec.stdio {
            callback = cb
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if null < 0 { throw SandboxError("sandbox: open /dev/null: \(String(cString: strerror(errno)))") }
            toClose.append(null)
            var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
            if csb_pipe(&out) < 0 { throw SandboxError("sandbox: pipe2: \(String(cString: strerror(errno)))") }
            toClose.append(out[1])
            if csb_pipe(&err) < 0 { close(out[0]); throw SandboxError("sandbox: pipe2: \(String(cString: strerror(errno)))") }
            toClose.append(err[1])
            fds = (null, out[1], err[1])
            readers = [(out[0], false), (err[0], true)]
        }
        var pid: Int32 = 0
        var errfd: Int32 = -1
        var msg = [CChar](repeating: 0, count: 1024)
        let rc = data.withUnsafeBytes { buf in
            csb_spawn(buf.baseAddress, buf.count, fds.0, fds.1, fds.2, &pid, &errfd, &msg, msg.count)
        }
        for fd in toClose { close(fd) }
        toClose = []
        if rc != 0 {
            for r in readers { close(r.fd) }
            throw SandboxError("sandbox: " + String(cString: msg))
        }
        process.started(pid)

        let deliverTo = callback
        let done = DispatchGroup()
        let deliver = NSLock()
        for r in readers {
            done.enter()
            let t = Thread {
                var buf = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buf.withUnsafeMutableBytes { read(r.fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    deliver.lock()
                    deliverTo?(r.isError, Array(buf[0..<n]))
                    deliver.unlock()
                }
                close(r.fd)
                done.leave()
            }
            t.name = "swiftdock-sandbox-output"
            t.start()
        }

        let status = process.wait()
        done.wait()
        // Every writer of the error pipe has exited or exec'd by now.
        var message: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        _ = fcntl(errfd, F_SETFL, O_NONBLOCK)
        while true {
            let n = buf.withUnsafeMutableBytes { read(errfd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            message += buf[0..<n]
        }
        close(errfd)
        if !message.isEmpty {
            let text = String(decoding: message, as: UTF8.self)
            let line = text.split(separator: "\n").first.map(String.init) ?? text
            throw SandboxError(line, status: status >= 0 ? status : nil)
        }
        if status < 0 { throw SandboxError("sandbox: waitpid \(pid): \(String(cString: strerror(-status)))") }
        return status
    }
}

/// The spawned helper; `kill` is safe against PID reuse (the zombie is kept until marked).
/// `@unchecked Sendable` is safe: the cancellation handler (`kill`) and the thread that runs
/// the helper race on `pid`, `exited` and `cancelled`, and touch them only while `lock` is held;
/// the one unlocked read, `pid` in `wait`, is on the thread that set it in `started`.
final class SandboxProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: Int32 = 0
    private var exited = false
    private var cancelled = false

    func started(_ pid: Int32) {
        lock.lock()
        self.pid = pid
        let kill = cancelled
        lock.unlock()
        if kill { Glibc.kill(pid, SIGKILL) }
    }

    func kill() {
        lock.lock()
        defer { lock.unlock() }
        cancelled = true
        if pid > 0 && !exited { _ = Glibc.kill(pid, SIGKILL) }
    }

    func wait() -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        lock.lock()
        exited = true
        lock.unlock()
        return csb_wait(pid)
    }
}
