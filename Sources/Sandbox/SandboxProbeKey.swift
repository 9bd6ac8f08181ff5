import CSandbox
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Everything the sandbox probe's answer depends on, so a cached answer (`SandboxProbeCache`)
/// is only ever used where the probe would say the same: this boot, this kernel, this user and
/// id map, the namespaces and seccomp mode it runs in, the requested isolation, the file system
/// the probe mounts its overlay on, the kernel's user-namespace switches as they are now, and
/// this swiftdock executable (a newer one
/// may probe differently). Any field that cannot be read makes no key at all: then nothing is
/// cached and the probe runs, as it did before the cache existed.
struct SandboxProbeKey: Sendable, Hashable {
    /// `(name, value)` in a fixed order; values are one line each.
    var fields: [Field]

    struct Field: Sendable, Hashable {
        var name: String
        var value: String
    }

    init(_ fields: [(String, String)]) {
        self.fields = fields.map { Field(name: $0.0, value: Self.oneLine($0.1)) }
    }

    /// The key lines as the cache file starts with them.
    var text: String { fields.map { "\($0.name)=\($0.value)\n" }.joined() }

    /// A copy with `name` set to `value` (tests: one field changed at a time).
    func replacing(_ name: String, with value: String) -> SandboxProbeKey {
        var copy = self
        for i in copy.fields.indices where copy.fields[i].name == name { copy.fields[i].value = Self.oneLine(value) }
        return copy
    }

    /// The key of this process's probe: `requested` is the `SWIFTDOCK_RUN_ISOLATION` value,
    /// `probeBase` the directory the probe makes its overlay in (`$TMPDIR` or /tmp).
    static func current(requested: String, probeBase: String, idMap: UserNamespaceMap) -> SandboxProbeKey? {
        guard let boot = readLine("/proc/sys/kernel/random/boot_id"), !boot.isEmpty else { return nil }
        var names = utsname()
        guard uname(&names) == 0 else { return nil }
        let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let version = withUnsafeBytes(of: names.version) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var fsType: UInt64 = 0, fsID: UInt64 = 0
        guard csb_file_system(probeBase, &fsType, &fsID) == 0 else { return nil }
        var exe = stat()
        guard stat("/proc/self/exe", &exe) == 0 else { return nil }
        // Switches that can change within a boot (Debian's, Ubuntu's AppArmor restriction, the
        // namespace limit); "-" where this kernel has no such file.
        let switches = ["/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                        "/proc/sys/user/max_user_namespaces"].map { readLine($0) ?? "-" }.joined(separator: ",")
        // The namespaces and seccomp mode this process runs in: a container on the same kernel
        // (same boot id) may forbid what the host allows.
        guard let userNS = link("/proc/self/ns/user"), let mountNS = link("/proc/self/ns/mnt") else { return nil }
        let seccomp = status("Seccomp") ?? "-"
        return SandboxProbeKey([
            ("boot", boot),
            ("namespaces", "\(userNS) \(mountNS) seccomp \(seccomp)"),
            ("kernel", "\(release) \(version)"),
            ("user", "uid \(getuid()) euid \(geteuid()) gid \(getgid())"),
            ("idmap", describe(idMap)),
            ("requested", requested.isEmpty ? "auto" : requested.lowercased()),
            ("probe-fs", "\(probeBase) type \(String(fsType, radix: 16)) id \(String(fsID, radix: 16))"),
            ("userns", switches),
            ("executable", "dev \(exe.st_dev) ino \(exe.st_ino) size \(exe.st_size) mtime \(exe.st_mtim.tv_sec).\(exe.st_mtim.tv_nsec)"),
        ])
    }

    private static func describe(_ map: UserNamespaceMap) -> String {
        switch map {
        case .identity: return "identity"
        case .single(let uid, let gid): return "single \(uid):\(gid)"
        case .subordinate(let uid, let gid, let ids):
            return "subordinate \(uid):\(gid) uids \(ids.uids.start)+\(ids.uids.count) gids \(ids.gids.start)+\(ids.gids.count) \(ids.newuidmap) \(ids.newgidmap)"
        }
    }

    /// The first line of a small kernel file, trimmed; nil when unreadable.
    private static func readLine(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        let line = buffer[..<n].prefix { $0 != UInt8(ascii: "\n") }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// Where the symlink `path` points (a namespace's `user:[4026531837]`); nil when unreadable.
    private static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The value of the `name:` line of /proc/self/status; nil when missing.
    private static func status(_ name: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    /// A value as one line of the file (no newline can make a field look like another).
    static func oneLine(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : $0 }))
    }
}
