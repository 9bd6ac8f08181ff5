import Foundation

/// Runs `body` for every element with at most `limit` running at once. The first failure
/// cancels the others and is rethrown.
public func forEachConcurrently<T: Sendable>(_ items: [T], limit: Int,
                                      _ body: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var running = 0
        for item in items {
            if running >= max(1, limit) {
                try await group.next()
                running -= 1
            }
            try Task.checkCancellation()
            group.addTask { try await body(item) }
            running += 1
        }
        try await group.waitForAll()
    }
}

/// A lock-protected value shared between tasks (progress counters, results). `@unchecked
/// Sendable` is safe: `value` is reached only through `withLock`, which holds `lock`.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
