import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process that owns an entry under the store's `tmp/`: its PID and its start time (field
/// 22 of `/proc/PID/stat`, clock ticks since boot). The pair names one process for the life
/// of the machine — a PID alone is reused — so any swiftdock can tell an entry whose writer
/// was killed (`kill -9`, OOM, power cut) from one still being written, whatever its age.
///
/// Entries are named `<pid>-<start>-<random>[suffix]`; an owner's blob journal is
/// `journals/<pid>-<start>`.
struct TemporaryOwner: Hashable, Sendable, CustomStringConvertible {
    var pid: Int32
    var start: UInt64

    /// This process, read once.
    static let current: TemporaryOwner = TemporaryOwner(pid: getpid(), start: startTime(of: getpid()) ?? 0)

    /// The owner named at the front of a `tmp/` entry, or nil for a name swiftdock did not make
    /// (or made before owners were named: `<pid>-<random>`).
    init?(entryName name: String) {
        let parts = name.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[0]), pid > 0 else { return nil }
        guard parts.count == 3, let start = UInt64(parts[1]) else { return nil }
        self.pid = pid
        self.start = start
    }

    /// The owner a journal is named after (`<pid>-<start>`).
    init?(journalName name: String) {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, let start = UInt64(parts[1]) else { return nil }
        self.init(pid: pid, start: start)
    }

    init(pid: Int32, start: UInt64) {
        self.pid = pid
        self.start = start
    }

    /// `<pid>-<start>`, the prefix of every entry this owner makes.
    var description: String { "\(pid)-\(start)" }

    /// True while the process that made the entry runs: same PID, same start time.
    var isAlive: Bool {
        guard let running = Self.startTime(of: pid) else { return false }
        return running == start
    }

    /// Field 22 (`starttime`) of `/proc/PID/stat`; nil when no such process exists.
    /// The command name (field 2) may hold spaces and parentheses, so fields are counted
    /// after its last `)`.
    static func startTime(of pid: Int32) -> UInt64? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0, let close = buffer[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buffer[(close + 1)..<n].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }
}
