/// Who a container's process runs as: ids, supplementary groups and the home directory that
/// docker would give it.
public struct ProcessUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// The groups that list the user by name in the image's group file, in file order; empty
    /// when `user:group` names the group explicitly.
    public var supplementaryGroups: [UInt32]
    /// The passwd entry's home directory, `/` when the uid has no entry (runc's default).
    public var home: String

    public init(uid: UInt32, gid: UInt32, supplementaryGroups: [UInt32] = [], home: String = "/") {
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
        self.home = home
    }

    /// root when no user is given.
    public static let root = ProcessUser(uid: 0, gid: 0)
}

extension UserDatabase {
    /// Reads a USER / `run -u` value the way runc's user lookup does for docker and BuildKit
    /// (BuildKit is the reference where they differ):
    /// - empty: uid 0, looked up like `0`;
    /// - `uid:gid`, both numbers: taken as they are, no supplementary groups (BuildKit's fast path);
    /// - a number: that uid; gid and home from the first passwd entry with that uid, else gid 0, home `/`;
    /// - a name: the first passwd entry of that name, or "unable to find user";
    /// - `:group`: a number is the gid, a name is looked up in group, or "unable to find group";
    /// - without `:group`, a user found in passwd also gets every group that lists its name.
    /// HOME is the home of the first passwd entry with the resulting uid (runc resolves the
    /// numeric `uid:gid` it is given), else `/`.
    /// Throws `NumericID.OutOfRange` for a number outside 0…2³²−2 and `UserLookupError`.
    public func processUser(_ spec: String) throws -> ProcessUser {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0].isEmpty ? "0" : parts[0]
        let groupPart = parts.count == 2 && !parts[1].isEmpty ? parts[1] : nil

        let numericUser = try NumericID.parse(userPart, role: "user")
        let numericGroup = try groupPart.flatMap { try NumericID.parse($0, role: "group") }
        if let uid = numericUser, let gid = numericGroup {
            // BuildKit's fast path: both numbers, nothing looked up but HOME.
            return ProcessUser(uid: UInt32(uid), gid: UInt32(gid), home: home(uid: uid))
        }
        let matched: User?
        if let uid = numericUser {
            matched = user(uid: uid)
        } else {
            guard let named = user(named: userPart) else { throw UserLookupError.unknownUser(userPart) }
            matched = named
        }
        let uid = matched?.uid ?? numericUser ?? 0
        var gid = matched?.gid ?? 0
        var supplementary: [UInt32] = []
        if let groupPart {
            if let number = numericGroup {
                gid = number
            } else {
                guard let group = group(named: groupPart) else { throw UserLookupError.unknownGroup(groupPart) }
                gid = group.gid
            }
        } else if let name = matched?.name {
            supplementary = groups.filter { $0.members.contains(name) }.map { UInt32($0.gid) }
        }
        return ProcessUser(uid: UInt32(uid), gid: UInt32(gid), supplementaryGroups: supplementary, home: home(uid: uid))
    }

    /// The home docker gives `uid` when the environment has no HOME.
    public func home(uid: Int) -> String { user(uid: uid)?.home ?? "/" }
}
