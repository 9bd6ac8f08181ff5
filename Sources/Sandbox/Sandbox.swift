import BlockingWork
import CSandbox
import FileDescriptorIO
import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum Sandbox {
    /// Runs `spec.argv` in the sandbox; returns its exit status (killed by signal N → 128+N).
    /// Throws `SandboxError` when the sandbox could not be set up or the command not executed.
    /// Cancelling the task kills the sandbox (and every process in it).
    public static func run(_ spec: SandboxSpec) async throws -> Int32 {
        let process = SandboxProcess()
        return try await withTaskCancellationHandler {
            try await DedicatedThread.run(name: "swiftdock-sandbox") { try runBlocking(spec, probe: false, process: process) }
        } onCancel: {
            process.kill()
        }
    }

    /// The paths the sandbox mounts over in every root (besides `SandboxSpec.mounts`), relative
    /// to it. A `SandboxRoot.directory` should hold them already.
    public static let ownMountPoints: [(path: String, isDirectory: Bool)] = [
        ("proc", true), ("dev", true), ("sys", true), ("etc/resolv.conf", false), ("etc/hosts", false),
    ]

    /// `operation` (ops.c: `owners`, `remove`) replaces the command: see `Sandbox+TreeOperations`.
    static func serialize(_ spec: SandboxSpec, probe: Bool, operation: String? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        func add(_ key: Character, _ value: String) throws { try add(key, Array(value.utf8)) }
        func add(_ key: Character, _ value: [UInt8]) throws {
            if value.contains(0) {
                throw SandboxError("sandbox: NUL byte in \(String(decoding: value, as: UTF8.self).debugDescription)")
            }
            out.append(key.asciiValue!)
            out.append(contentsOf: value)
            out.append(0)
        }
        guard !spec.argv.isEmpty || probe || operation != nil else { throw SandboxError("sandbox: empty argv") }
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
            for o in owners {
                // The path as raw bytes (the helper hands them to fchownat as they are).
                try add("O", Array("\(o.uid):\(o.gid):\(String(o.mode, radix: 8)):".utf8) + o.pathBytes)
            }
        }
        for a in spec.argv { try add("A", a) }
        for e in spec.environment { try add("E", e) }
        try add("S", ProcessModel.defaultPath)
        try add("C", spec.workingDirectory)
        try add("u", String(spec.uid))
        try add("g", String(spec.gid))
        for g in spec.supplementaryGroups where spec.idMap.maps(containerGID: g) { try add("G", String(g)) }
        switch spec.idMap {
        case .identity: try add("I", "identity")
        case .single: try add("I", "single")
        case .subordinate(_, _, let ids):
            try add("I", "subordinate")
            try add("i", "\(ids.uids.start):\(ids.uids.count):\(ids.gids.start):\(ids.gids.count)")
            try add("j", ids.newuidmap)
            try add("k", ids.newgidmap)
        }
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
        if let operation { try add("X", operation) }
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

    static func runBlocking(_ spec: SandboxSpec, probe: Bool, operation: String? = nil, process: SandboxProcess) throws -> Int32 {
        let data = try serialize(spec, probe: probe, operation: operation)
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
                    // A failed read ends the output as the end of the file does.
                    let n = buf.withUnsafeMutableBytes { (try? FileDescriptorIO.read(r.fd, into: $0)) ?? 0 }
                    if n == 0 { break }
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
            let n = buf.withUnsafeMutableBytes { (try? FileDescriptorIO.read(errfd, into: $0)) ?? 0 }  // EAGAIN: all read
            if n == 0 { break }
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
