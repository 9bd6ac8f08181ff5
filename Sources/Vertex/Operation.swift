/// A long-running operation (AIP-151): `done` with either `error` or `response`.
public struct LongRunningOperation<Response: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var name: String
    public var done: Bool?
    public var error: GoogleStatus?
    public var response: Response?

    public init(name: String, done: Bool? = nil, error: GoogleStatus? = nil, response: Response? = nil) {
        self.name = name
        self.done = done
        self.error = error
        self.response = response
    }

    public var isDone: Bool { done ?? false }
}
