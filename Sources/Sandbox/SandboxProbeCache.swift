import FileDescriptorIO
import Foundation
import ImageModel

#if canImport(Glibc)
import Glibc
#endif

/// The sandbox probe's answer, kept per boot in a runtime directory, so a build on a fresh
/// store spawns no probe (issue 13: one helper process, ~24 ms of CPU, in every cold build).
/// podman's containers/storage keeps what it learnt about the kernel the same way, in its
/// runroot: per boot, per user, in a directory on tmpfs that only the user can write.
///
/// The directory: `/run/swiftdock` for root, `$XDG_RUNTIME_DIR/swiftdock` for other users,
/// else `$TMPDIR/swiftdock-runtime-<uid>` (podman's fallback too). It is used only when it is a
/// real directory (not a symlink) owned by this user with no access for anyone else; it is
/// created so when missing. The file `sandbox-probe` is read as hostile input: it must be a
/// regular file owned by the user, mode 0600 or stricter, small, start with exactly the current
/// key (`SandboxProbeKey`), name an isolation, and end with the SHA-256 of everything before
/// it. Anything else is a miss: the probe runs and its answer replaces the file (written under
/// a temporary name, then renamed). Only answers that say the sandbox is available are kept:
/// a refusal may be passing (and costs nothing to ask again where RUN cannot work anyway).
///
/// Why a wrong file cannot weaken isolation: the answer only picks how RUN gets its root
/// (overlay or a copy); every RUN still makes its namespaces and mounts itself, and fails with
/// its own error where the kernel refuses them.
struct SandboxProbeCache: Sendable {
    /// Where the answer is kept.
    var directory: String

    static let fileName = "sandbox-probe"
    static let magic = "swiftdock-sandbox-probe 1"
    /// Far more than a real answer takes; a larger file is not read.
    static let maximumSize = 8192

    init(directory: String) { self.directory = directory }

    /// The runtime directory for this process (see the type's comment).
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                         euid: UInt32 = geteuid()) -> SandboxProbeCache {
        if euid == 0 { return SandboxProbeCache(directory: "/run/swiftdock") }
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return SandboxProbeCache(directory: runtime + "/swiftdock")
        }
        let base = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        return SandboxProbeCache(directory: "\(base)/swiftdock-runtime-\(euid)")
    }

    /// The cached answer for `key`, or else `probe()`'s, kept for next time when it says the
    /// sandbox is available. Without a key (something it depends on could not be read) the
    /// probe runs and nothing is kept.
    func support(key: SandboxProbeKey?, probe: () -> SandboxSupport) -> SandboxSupport {
        guard let key else { return probe() }
        let dir = openDirectory()
        defer { if dir >= 0 { close(dir) } }
        if dir >= 0, let cached = cached(in: dir, key: key) { return cached }
        let support = probe()
        if dir >= 0, support.available { keep(support, key: key, in: dir) }
        return support
    }

    /// The directory, created when missing; -1 when it is not one only this user can use.
    func openDirectory() -> Int32 {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { return -1 }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else {
            close(fd)
            return -1
        }
        return fd
    }

    /// The answer in the file, when the file is ours, whole, and made for `key`.
    func cached(in dir: Int32, key: SandboxProbeKey) -> SandboxSupport? {
        // O_NONBLOCK: a FIFO put in its place must not hang the build.
        let fd = openat(dir, Self.fileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o077 == 0,
              st.st_size <= Self.maximumSize else { return nil }
        var bytes = [UInt8](repeating: 0, count: Self.maximumSize + 1)
        let count = bytes.withUnsafeMutableBytes { buffer in
            do throws(FileDescriptorIOError) {
                return try FileDescriptorIO.readFully(fd, into: buffer)
            } catch {
                return error.transferred  // a failed read ends the file where it failed (its sum then fails)
            }
        }
        guard count <= Self.maximumSize else { return nil }
        return Self.parse(Array(bytes[..<count]), key: key)
    }

    /// The file's bytes for an answer (see `parse`).
    static func render(_ support: SandboxSupport, key: SandboxProbeKey) -> [UInt8] {
        var text = magic + "\n" + key.text + "isolation=\(support.isolation.rawValue)\n"
        if let fallback = support.fallback { text += "fallback=\(SandboxProbeKey.oneLine(fallback))\n" }
        let body = Array(text.utf8)
        return body + Array("sum=\(checksum(body))\n".utf8)
    }

    /// The SHA-256 of `bytes`, lowercase hex: the file's last line.
    static func checksum(_ bytes: [UInt8]) -> String { SHA256Stream.digest(of: bytes).encoded }

    /// The answer in `bytes`: the magic line, exactly `key`'s lines, `isolation=overlay|copy`,
    /// for copy an optional `fallback=` line, and `sum=` the SHA-256 of all that; nil otherwise.
    static func parse(_ bytes: [UInt8], key: SandboxProbeKey) -> SandboxSupport? {
        let head = Array((magic + "\n" + key.text).utf8)
        guard bytes.count > head.count, bytes.starts(with: head), bytes.last == UInt8(ascii: "\n") else { return nil }
        // The sum line is the last one; it covers every byte before it.
        guard let sumStart = bytes.dropLast().lastIndex(of: UInt8(ascii: "\n")).map({ $0 + 1 }), sumStart >= head.count else { return nil }
        let body = Array(bytes[..<sumStart])
        let sumLine = String(decoding: bytes[sumStart..<(bytes.count - 1)], as: UTF8.self)
        guard sumLine == "sum=\(checksum(body))" else { return nil }
        let lines = String(decoding: body[head.count...], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        var isolation: SandboxIsolation?
        var fallback: String?
        for (index, line) in lines.enumerated() {
            if index == 0, line.hasPrefix("isolation=") {
                isolation = SandboxIsolation(rawValue: String(line.dropFirst("isolation=".count)))
            } else if index == 1, line.hasPrefix("fallback="), !line.dropFirst("fallback=".count).isEmpty {
                fallback = String(line.dropFirst("fallback=".count))
            } else {
                return nil
            }
        }
        guard let isolation, fallback == nil || isolation == .copy else { return nil }
        return SandboxSupport(available: true, reason: nil, isolation: isolation, fallback: fallback)
    }

    /// Replaces the file with `support`'s answer (best effort: a failure only costs the next
    /// build a probe).
    func keep(_ support: SandboxSupport, key: SandboxProbeKey, in dir: Int32) {
        let bytes = Self.render(support, key: key)
        let temporary = "\(Self.fileName).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { (try? FileDescriptorIO.writeAll(fd, $0)) != nil }
        // The mode is exactly 0600 whatever the umask (the reader insists on no group/other bits).
        let complete = written && fchmod(fd, 0o600) == 0
        close(fd)
        if !complete || renameat(dir, temporary, dir, Self.fileName) != 0 { unlinkat(dir, temporary, 0) }
    }
}
