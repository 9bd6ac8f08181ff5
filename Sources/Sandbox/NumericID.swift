/// A user or group ID written as a number (USER, `--chown`, a base image's `User`).
///
/// Linux IDs are 32-bit and `(uid_t)-1` (2³²−1) means "no change" to `chown`, so valid IDs are
/// 0…2³²−2. Anything else that looks like a number is refused with a message naming it, rather
/// than trapping in a later integer conversion (it did: SIGILL on `USER 4294967296`) or reaching
/// the tar writer as a negative owner. BuildKit parses IDs with Go's `ParseUint(s, 10, 32)` and
/// looks the rest up as names, so its message for these is "unable to find user"; ours says why.
public enum NumericID {
    public static let maximum = 4_294_967_294

    public struct OutOfRange: Error, CustomStringConvertible, Sendable {
        public var text: String
        public var role: String
        public var description: String { "\(role) ID \(text) is out of range (0…\(NumericID.maximum))" }
    }

    /// The ID `text` spells, nil when it is a name (not `-`? followed by digits only); throws for
    /// a number outside 0…2³²−2. `role` is "user" or "group", for the message.
    public static func parse<S: StringProtocol>(_ text: S, role: String) throws -> Int? {
        let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard !text.hasPrefix("-"), let value = Int(digits), value <= maximum else {
            throw OutOfRange(text: String(text), role: role)
        }
        return value
    }

    /// Checks the numeric parts of a `user[:group]` spec without resolving names.
    public static func validate(userSpec spec: String) throws {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        _ = try parse(parts[0], role: "user")
        if parts.count == 2 { _ = try parse(parts[1], role: "group") }
    }
}
