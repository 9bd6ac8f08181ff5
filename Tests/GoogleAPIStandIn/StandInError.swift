/// A stand-in that cannot work: reference files not found, a server that did not start.
public struct StandInError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
