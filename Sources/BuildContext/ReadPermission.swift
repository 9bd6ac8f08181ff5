#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the walk may call a regular file readable from its `lstat` alone, without the
/// `faccessat(R_OK)` that was a twelfth of a no-change rebuild of a 32k-file context (issue 13).
///
/// Only where the answer is certain: the file's owner is this process's user (real and
/// effective uid equal, as `faccessat` without flags checks the real ids and `open` the
/// effective ones) and the owner's read bit is set. The kernel checks the owner class first
/// and alone — a POSIX ACL's owner entry *is* those mode bits, and no named entry, group or
/// mask applies to the owner — so for root and unprivileged users alike DAC grants the read.
/// Every other case (another owner, no owner bit, root reading a mode-000 file through its
/// capabilities, ACL entries for other users, a uid the user namespace does not map and shows
/// as the overflow uid) still asks `faccessat`. What neither the mode nor `faccessat` can
/// promise — a security module or network file system refusing the later `open` — is reported
/// by the read that needs the bytes, as before.
enum ReadPermission {
    /// This process's uid when its real and effective uids agree and it is not the overflow
    /// uid; nil otherwise (then every file is checked with `faccessat`).
    static let processUser: uid_t? = {
        let real = getuid()
        guard real == geteuid(), real != overflowUID else { return nil }
        return real
    }()

    /// Whether `st` shows a file `user` owns with its owner-read bit set.
    static func ownerMayRead(_ st: stat, as user: uid_t?) -> Bool {
        guard let user, st.st_uid == user, st.st_uid != overflowUID else { return false }
        return st.st_mode & S_IRUSR != 0
    }

    /// The uid the kernel shows for ids its user namespace does not map
    /// (`/proc/sys/fs/overflowuid`, 65534 unless changed).
    static let overflowUID: uid_t = {
        guard let file = fopen("/proc/sys/fs/overflowuid", "r") else { return 65534 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil,
              let value = UInt32(String(String(cString: line).prefix { $0.isASCII && $0.isNumber }))
        else { return 65534 }
        return uid_t(value)
    }()
}
