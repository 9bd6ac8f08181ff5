/// `/etc/passwd` and `/etc/group` of an image, for `--chown=name:group` and USER lookups.
struct UserDatabase {
    struct User { var name: String; var uid: Int; var gid: Int; var home: String }
    var users: [User] = []
    var groups: [String: Int] = [:]

    init(passwd: [UInt8]?, group: [UInt8]?) {
        for line in Self.lines(passwd) {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            // IDs outside 0…2³²−2 (a hostile base image) make the line no user at all.
            guard f.count >= 4, let uid = Self.id(f[2]), let gid = Self.id(f[3]) else { continue }
            users.append(User(name: String(f[0]), uid: uid, gid: gid, home: f.count > 5 ? String(f[5]) : "/"))
        }
        for line in Self.lines(group) {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 3, let gid = Self.id(f[2]) else { continue }
            groups[String(f[0])] = gid
        }
    }

    private static func id(_ text: Substring) -> Int? { (try? NumericID.parse(text, role: "user")) ?? nil }

    private static func lines(_ bytes: [UInt8]?) -> [Substring] {
        guard let bytes else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
    }

    enum LookupError: Error, CustomStringConvertible {
        case unknownUser(String), unknownGroup(String)
        var description: String {
            switch self {
            case .unknownUser(let u): return "unable to find user \(u): no matching entries in passwd file"
            case .unknownGroup(let g): return "unable to find group \(g): no matching entries in group file"
            }
        }
    }

    /// Resolves `user[:group]` as BuildKit does for `--chown`: numbers are taken as they are;
    /// a number without a group is also the GID (docker's documented rule); a user name
    /// without a group takes that user's primary group from passwd (BuildKit's readUser:
    /// `svc:x:2001:2002` → 2001:2002). Names come from the image's passwd/group files.
    func resolveOwner(_ spec: String) throws -> (uid: Int, gid: Int) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        let uid: Int
        let primaryGroup: Int
        if let n = try NumericID.parse(userPart, role: "user") {
            uid = n
            primaryGroup = n
        } else if let user = users.first(where: { $0.name == userPart }) {
            uid = user.uid
            primaryGroup = user.gid
        } else {
            throw LookupError.unknownUser(userPart)
        }
        guard parts.count == 2 else { return (uid, primaryGroup) }
        let groupPart = parts[1]
        if let n = try NumericID.parse(groupPart, role: "group") { return (uid, n) }
        guard let gid = groups[groupPart] else { throw LookupError.unknownGroup(groupPart) }
        return (uid, gid)
    }

    /// HOME for a user id, as docker sets it when the image's Env has none: the passwd entry's
    /// home, else `/root` for root and `/` for anyone else.
    func home(uid: Int) -> String {
        users.first(where: { $0.uid == uid })?.home ?? (uid == 0 ? "/root" : "/")
    }

    /// Resolves a USER value for owning a WORKDIR: name or number, optional group. Throws for
    /// a number outside 0…2³²−2 (`NumericID`).
    func resolveUser(_ spec: String) throws -> (uid: Int, gid: Int)? {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var uid: Int? = try NumericID.parse(parts[0], role: "user")
        var gid: Int? = nil
        if uid == nil, let user = users.first(where: { $0.name == parts[0] }) {
            uid = user.uid
            gid = user.gid
        } else if let u = uid {
            gid = users.first(where: { $0.uid == u })?.gid ?? 0
        }
        if parts.count == 2 { gid = try NumericID.parse(parts[1], role: "group") ?? groups[parts[1]] }
        guard let uid, let gid else { return nil }
        return (uid, gid)
    }
}
