import Foundation

/// How often a job or long-running operation is asked for its state: quickly at first, then
/// backing off to a steady interval. `SWIFTDOCK_POLL_INTERVAL` (seconds) sets the first and
/// largest delay to the same value, for tests and impatient users.
public struct PollSchedule: Sendable, Equatable {
    public var initial: TimeInterval
    public var maximum: TimeInterval
    public var factor: Double

    public init(initial: TimeInterval = 2, maximum: TimeInterval = 30, factor: Double = 1.5) {
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
    }

    public init(environment: [String: String]) {
        if let text = environment["SWIFTDOCK_POLL_INTERVAL"], let seconds = TimeInterval(text), seconds >= 0 {
            self.init(initial: seconds, maximum: seconds, factor: 1)
        } else {
            self.init()
        }
    }

    /// The delay before poll number `attempt` (1-based).
    public func delay(attempt: Int) -> TimeInterval {
        min(maximum, initial * pow(factor, Double(max(0, attempt - 1))))
    }

    /// Calls `fetch` until `isDone` holds, sleeping between calls; returns the last value.
    public func poll<Value: Sendable>(_ fetch: () async throws -> Value, until isDone: (Value) -> Bool) async throws -> Value {
        var attempt = 0
        while true {
            let value = try await fetch()
            if isDone(value) { return value }
            attempt += 1
            try await Task.sleep(nanoseconds: UInt64(delay(attempt: attempt) * 1_000_000_000))
        }
    }
}
