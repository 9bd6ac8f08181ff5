import Foundation

extension StepCacheKey {
    /// A step's key as the steps after it see it (their parent): its value, or — after a COPY
    /// that hashes its sources while writing its layer (`FoldedContent`) — the key itself,
    /// waiting for that write. A step whose parent is deferred is never looked up: no record
    /// can exist below a key that is certainly new (see `BuildSession.lookupCertainToMiss`).
    enum Reference: Sendable {
        case known(String)
        case deferred(StepCacheKey)

        /// The value, when it is known without waiting.
        var knownValue: String? {
            if case .known(let value) = self { return value }
            return nil
        }

        /// The value once every folded COPY it depends on has settled.
        func resolved() throws -> String {
            switch self {
            case .known(let value): return value
            case .deferred(let key): return try key.resolved()
            }
        }
    }

    /// A field appended after one whose value was not known yet, kept in order until it is.
    indirect enum QueuedField: Sendable {
        case text(String, String)
        /// The parent field, from a deferred parent key.
        case parent(StepCacheKey)
        /// A field whose value a folded COPY learns from its layer write.
        case content(String, FoldedContent)
    }
}
