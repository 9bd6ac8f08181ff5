/// `/etc/passwd` and `/etc/group` of an image: what USER, `run -u` and `COPY --chown` names
/// mean. Parsed from the image's own bytes (hostile input): a line that is not a user or a
/// group is skipped, never trusted in part.
public struct UserDatabase: Sendable, Hashable {
    public struct User: Sendable, Hashable {
        public var name: String
        public var uid: Int
        public var gid: Int
        public var home: String
        public init(name: String, uid: Int, gid: Int, home: String) {
            self.name = name
            self.uid = uid
            self.gid = gid
            self.home = home
        }
    }

    public struct Group: Sendable, Hashable {
        public var name: String
        public var gid: Int
        /// The user names the line lists (the supplementary members).
        public var members: [String]
        public init(name: String, gid: Int, members: [String]) {
            self.name = name
            self.gid = gid
            self.members = members
        }
    }

    /// In file order: the first match wins, as in runc's lookups.
    public var users: [User] = []
    public var groups: [Group] = []

    /// No passwd and no group file (an image without them, such as one built `FROM scratch`).
    public static let empty = UserDatabase(passwd: nil, group: nil)

    public init(passwd: [UInt8]?, group: [UInt8]?) {
        for line in Self.lines(passwd) {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            // IDs outside 0…2³²−2 (a hostile base image) make the line no user at all.
            guard f.count >= 4, let uid = Self.id(f[2]), let gid = Self.id(f[3]) else { continue }
            users.append(User(name: String(f[0]), uid: uid, gid: gid, home: f.count > 5 ? String(f[5]) : "/"))
        }
        for line in Self.lines(group) {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 3, let gid = Self.id(f[2]) else { continue }
            let members = f.count > 3 ? f[3].split(separator: ",").map(String.init) : []
            groups.append(Group(name: String(f[0]), gid: gid, members: members))
        }
    }

    public func user(named name: String) -> User? { users.first { $0.name == name } }
    public func user(uid: Int) -> User? { users.first { $0.uid == uid } }
    public func group(named name: String) -> Group? { groups.first { $0.name == name } }

    private static func id(_ text: Substring) -> Int? { (try? NumericID.parse(text, role: "user")) ?? nil }

    private static func lines(_ bytes: [UInt8]?) -> [Substring] {
        guard let bytes else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
    }
}

/// A name that the image's passwd or group file does not hold (docker's and BuildKit's words).
public enum UserLookupError: Error, CustomStringConvertible, Sendable, Hashable {
    case unknownUser(String)
    case unknownGroup(String)

    public var description: String {
        switch self {
        case .unknownUser(let u): return "unable to find user \(u): no matching entries in passwd file"
        case .unknownGroup(let g): return "unable to find group \(g): no matching entries in group file"
        }
    }
}
