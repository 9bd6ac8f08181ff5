import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How the sandbox maps ids into its user namespace. Worked out once per process (`current`)
/// and handed to the sandbox helper in its spec, so the builder's reading of the owners a RUN
/// wrote (`IDMap`) and the maps the helper writes are the same answer by construction.
public enum UserNamespaceMap: Sendable, Hashable {
    /// swiftdock runs as root: every id maps to itself.
    case identity
    /// Unprivileged without usable subordinate ids: container uid/gid 0 is the real user's
    /// `uid`/`gid`, and no other id exists.
    case single(uid: UInt32, gid: UInt32)
    /// Unprivileged with subordinate ids: 0 is the real user, 1…count the subordinate ranges
    /// (written by newuidmap/newgidmap, which check them against /etc/subuid and /etc/subgid).
    case subordinate(uid: UInt32, gid: UInt32, SubordinateIDs)

    /// This process's map, read once: root → identity; else the real user's ranges in
    /// /etc/subuid and /etc/subgid when newuidmap and newgidmap are installed; else single.
    public static let current: UserNamespaceMap = {
        let uid = getuid(), gid = getgid()
        let name = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return resolve(effectiveUID: geteuid(), uid: uid, gid: gid, userName: name,
                       subuid: try? String(contentsOfFile: "/etc/subuid", encoding: .utf8),
                       subgid: try? String(contentsOfFile: "/etc/subgid", encoding: .utf8),
                       tool: { executable($0, searchPath: path) })
    }()

    /// The map for a user, given the text of the subordinate-id files (nil when unreadable)
    /// and how to find a tool (its path, nil when missing).
    public static func resolve(effectiveUID: UInt32, uid: UInt32, gid: UInt32, userName: String?,
                               subuid: String?, subgid: String?, tool: (String) -> String?) -> UserNamespaceMap {
        if effectiveUID == 0 { return .identity }
        guard let newuidmap = tool("newuidmap"), let newgidmap = tool("newgidmap"),
              let uids = subuid.flatMap({ SubordinateIDs.range(in: $0, userName: userName, uid: uid) }),
              let gids = subgid.flatMap({ SubordinateIDs.range(in: $0, userName: userName, uid: uid) })
        else { return .single(uid: uid, gid: gid) }
        return .subordinate(uid: uid, gid: gid, SubordinateIDs(uids: uids, gids: gids, newuidmap: newuidmap, newgidmap: newgidmap))
    }

    /// `name` in the directories of `searchPath`, then of the default PATH: the first
    /// executable file.
    static func executable(_ name: String, searchPath: String) -> String? {
        let directories = (searchPath + ":" + ProcessModel.defaultPath).split(separator: ":")
        return directories.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether a process in the namespace can hold container gid `gid` (for setgroups).
    public func maps(containerGID gid: UInt32) -> Bool {
        switch self {
        case .identity: return true
        case .single: return gid == 0
        case .subordinate(_, _, let ids): return gid <= ids.gids.count
        }
    }

    /// Host → container ranges of uids and of gids (`(host, container, count)`), as the
    /// kernel applies them; nil for the identity.
    public var hostToContainer: (uids: [(host: UInt32, container: UInt32, count: UInt32)],
                                 gids: [(host: UInt32, container: UInt32, count: UInt32)])? {
        switch self {
        case .identity:
            return nil
        case .single(let uid, let gid):
            return ([(uid, 0, 1)], [(gid, 0, 1)])
        case .subordinate(let uid, let gid, let ids):
            return ([(uid, 0, 1), (ids.uids.start, 1, ids.uids.count)], [(gid, 0, 1), (ids.gids.start, 1, ids.gids.count)])
        }
    }
}

/// The real user's subordinate ranges and the setuid tools that map them.
public struct SubordinateIDs: Sendable, Hashable {
    public struct Range: Sendable, Hashable {
        public var start: UInt32
        public var count: UInt32
        public init(start: UInt32, count: UInt32) {
            self.start = start
            self.count = count
        }
    }

    public var uids: Range
    public var gids: Range
    public var newuidmap: String
    public var newgidmap: String

    public init(uids: Range, gids: Range, newuidmap: String, newgidmap: String) {
        self.uids = uids
        self.gids = gids
        self.newuidmap = newuidmap
        self.newgidmap = newgidmap
    }

    /// The first `owner:start:count` line of an /etc/subuid or /etc/subgid text whose owner is
    /// the user's name or uid, with count > 0 and the range inside 0…2³²−1. Both files are keyed
    /// by the user (not by its gid), as shadow's newuidmap and newgidmap read them.
    public static func range(in text: String, userName: String?, uid: UInt32) -> Range? {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f[0] == String(uid) || (userName != nil && f[0] == userName!),
                  let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0,
                  UInt64(start) + UInt64(count) <= UInt64(UInt32.max) + 1
            else { continue }
            return Range(start: start, count: count)
        }
        return nil
    }
}
