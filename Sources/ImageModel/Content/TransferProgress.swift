import Foundation

/// What a blob transfer is doing, in the words docker prints.
public enum TransferState: Sendable, Equatable {
    /// Queued behind other transfers (`Waiting`).
    case waiting
    /// Being checked at the destination (`Preparing`).
    case preparing
    /// Bytes sent so far (`Pushing [==>  ] 1MB/5MB`).
    case pushing(completed: Int64, total: Int64)
    /// Uploaded (`Pushed`).
    case pushed
    /// The destination already had it (`Layer already exists`).
    case alreadyExists
    /// Mounted from another repository of the same registry (`Mounted from team/base`).
    case mounted(from: String)
    /// Bytes received so far (`Downloading [==>  ] 1MB/5MB`).
    case downloading(completed: Int64, total: Int64)
    /// Received, verified and stored (`Download complete`).
    case downloaded
    /// Left in the registry; fetched only when needed (`Pulled lazily` — not shown by docker).
    case remote
}

/// One progress report: which blob, what role, what state.
public struct TransferEvent: Sendable, Equatable {
    /// The blob's digest; progress lines show its 12-digit short ID.
    public var digest: Digest
    /// True for image layers (docker shows a line per layer; configs get none).
    public var isLayer: Bool
    public var state: TransferState

    public init(digest: Digest, isLayer: Bool, state: TransferState) {
        self.digest = digest
        self.isLayer = isLayer
        self.state = state
    }
}

/// Receives progress events from any task; must be cheap and thread-safe.
public typealias TransferObserver = @Sendable (TransferEvent) -> Void

/// Counts bytes of one transfer and reports them at most every `step` bytes (and at the end),
/// so a 1 GB blob does not produce a million events.
public final class ByteProgress: Sendable {
    private let counter = Locked((done: Int64(0), reported: Int64(0)))
    private let total: Int64
    private let step: Int64
    private let report: @Sendable (Int64, Int64) -> Void

    public init(total: Int64, step: Int64 = 512 * 1024, report: @escaping @Sendable (_ completed: Int64, _ total: Int64) -> Void) {
        self.total = total
        self.step = step
        self.report = report
    }

    /// Adds `count` bytes; a retried body counts again, so the figure is capped at the total.
    public func add(_ count: Int) {
        let send: Int64? = counter.withLock { c in
            c.done = min(total, c.done + Int64(count))
            guard c.done != c.reported, c.done - c.reported >= step || c.done == total else { return nil }
            c.reported = c.done
            return c.done
        }
        if let send { report(send, total) }
    }
}
