/// Maps the owner ids found on disk (host ids) back to the ids a container saw, for files
/// written by a sandbox running in a user namespace: a process that is uid 0 inside creates
/// files owned on disk by the real (host) user.
///
/// Each range maps host ids `host ..< host + count` to container ids `container ..< container + count`
/// (the reverse direction of a line of `/proc/PID/uid_map`, which reads `inside outside count`).
/// A host id outside every range maps to 65534 (`nobody`), as the kernel shows unmapped ids.
public struct IDMap: Sendable, Hashable {
    /// One contiguous range of ids.
    public struct Range: Sendable, Hashable {
        public var host: UInt32
        public var container: UInt32
        public var count: UInt32
        public init(host: UInt32, container: UInt32, count: UInt32) {
            self.host = host
            self.container = container
            self.count = count
        }
    }

    /// The id unmapped host ids get.
    public static let overflowID: UInt32 = 65534

    public var uidRanges: [Range]
    public var gidRanges: [Range]
    /// True for `identity`: every id maps to itself (no overflow id).
    private let isIdentity: Bool

    /// Every id maps to itself.
    public static let identity = IDMap(identity: ())

    private init(identity: ()) {
        uidRanges = []
        gidRanges = []
        isIdentity = true
    }

    public init(hostToContainerUID: [(host: UInt32, container: UInt32, count: UInt32)],
                hostToContainerGID: [(host: UInt32, container: UInt32, count: UInt32)]) {
        uidRanges = hostToContainerUID.map { Range(host: $0.host, container: $0.container, count: $0.count) }
        gidRanges = hostToContainerGID.map { Range(host: $0.host, container: $0.container, count: $0.count) }
        isIdentity = false
    }

    /// A sandbox that maps the single host user `hostUID`/`hostGID` to root inside
    /// (`unshare -r`): files owned by that user become 0/0, everything else 65534.
    public static func rootless(hostUID: UInt32, hostGID: UInt32) -> IDMap {
        IDMap(hostToContainerUID: [(hostUID, 0, 1)], hostToContainerGID: [(hostGID, 0, 1)])
    }

    /// Builds the map from the text of `/proc/PID/uid_map` and `/proc/PID/gid_map` of a process
    /// inside the namespace (lines `inside outside count`). Nil when a line is malformed.
    public init?(procUIDMap: String, procGIDMap: String) {
        func parse(_ text: String) -> [(host: UInt32, container: UInt32, count: UInt32)]? {
            var ranges: [(host: UInt32, container: UInt32, count: UInt32)] = []
            for line in text.split(whereSeparator: \.isNewline) {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if fields.isEmpty { continue }
                guard fields.count == 3, let inside = UInt32(fields[0]), let outside = UInt32(fields[1]),
                      let count = UInt32(fields[2]) else { return nil }
                ranges.append((host: outside, container: inside, count: count))
            }
            return ranges
        }
        guard let uids = parse(procUIDMap), let gids = parse(procGIDMap) else { return nil }
        self.init(hostToContainerUID: uids, hostToContainerGID: gids)
    }

    /// The container uid of a file owned by host uid `host`.
    public func containerUID(_ host: UInt32) -> UInt32 {
        isIdentity ? host : Self.map(host, uidRanges)
    }

    /// The container gid of a file owned by host gid `host`.
    public func containerGID(_ host: UInt32) -> UInt32 {
        isIdentity ? host : Self.map(host, gidRanges)
    }

    /// The host uid a file must have on disk for the container to see `container`; nil when
    /// no range maps it.
    public func hostUID(_ container: UInt32) -> UInt32? {
        isIdentity ? container : Self.unmap(container, uidRanges)
    }

    /// The host gid a file must have on disk for the container to see `container`.
    public func hostGID(_ container: UInt32) -> UInt32? {
        isIdentity ? container : Self.unmap(container, gidRanges)
    }

    private static func unmap(_ id: UInt32, _ ranges: [Range]) -> UInt32? {
        for r in ranges where id >= r.container && id - r.container < r.count {
            return r.host &+ (id - r.container)
        }
        return nil
    }

    private static func map(_ id: UInt32, _ ranges: [Range]) -> UInt32 {
        for r in ranges where id >= r.host && id - r.host < r.count {
            return r.container &+ (id - r.host)
        }
        return overflowID
    }
}
