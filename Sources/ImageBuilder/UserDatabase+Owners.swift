import Sandbox

extension UserDatabase {
    /// Resolves `user[:group]` as BuildKit does for `--chown`: numbers are taken as they are;
    /// a number without a group is also the GID (docker's documented rule); a user name
    /// without a group takes that user's primary group from passwd (BuildKit's readUser:
    /// `svc:x:2001:2002` → 2001:2002). Names come from the image's passwd/group files.
    /// (A process's user follows runc's rules instead: `processUser`, in Sandbox.)
    func resolveOwner(_ spec: String) throws -> (uid: Int, gid: Int) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        let uid: Int
        let primaryGroup: Int
        if let n = try NumericID.parse(userPart, role: "user") {
            uid = n
            primaryGroup = n
        } else if let user = user(named: userPart) {
            uid = user.uid
            primaryGroup = user.gid
        } else {
            throw UserLookupError.unknownUser(userPart)
        }
        guard parts.count == 2 else { return (uid, primaryGroup) }
        let groupPart = parts[1]
        if let n = try NumericID.parse(groupPart, role: "group") { return (uid, n) }
        guard let gid = group(named: groupPart)?.gid else { throw UserLookupError.unknownGroup(groupPart) }
        return (uid, gid)
    }
}

extension UserDatabase {
    /// The process user of a USER value, nil when the image has no such user or group name
    /// (WORKDIR then stays root's); a number out of range still throws.
    func processUserIfKnown(_ spec: String) throws -> ProcessUser? {
        do { return try processUser(spec) } catch is UserLookupError { return nil }
    }
}
