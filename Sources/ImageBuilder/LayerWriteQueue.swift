import Foundation
import Layers

/// A layer write that was queued: its result once it ran (`value` waits for it). Several
/// steps may wait on the same write (a RUN's lower dirs, the commit, the step cache).
final class PendingLayerWrite: @unchecked Sendable {
    // @unchecked: `uploads` is immutable; every other field is read and written under `lock`.
    /// Whether the write also uploads the layer (`build --push`, see `LayerPush`).
    let uploads: Bool
    private let lock = NSLock()
    private var result: Result<WrittenLayer, any Error>?
    private var waiters: [CheckedContinuation<WrittenLayer, any Error>] = []

    init(uploads: Bool = false) { self.uploads = uploads }

    /// The written layer, waiting until the write has run; its error if it failed or was
    /// dropped (the build ended first).
    var value: WrittenLayer {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                if let result {
                    lock.unlock()
                    continuation.resume(with: result)
                } else {
                    waiters.append(continuation)
                    lock.unlock()
                }
            }
        }
    }

    fileprivate func complete(_ outcome: Result<WrittenLayer, any Error>) {
        lock.lock()
        guard result == nil else { lock.unlock(); return }
        result = outcome
        let waiting = waiters
        waiters.removeAll()
        lock.unlock()
        for waiter in waiting { waiter.resume(with: outcome) }
    }
}

/// The layer writes of one build as structured concurrency with a bound: every write runs
/// as a child task of one task group that the build's own task owns (`withLayerWrites`), at
/// most `limit` at a time, in the order the steps queued them. Later steps go on while their
/// layers are written (a COPY's layer is compressed while the next step runs), and the build
/// cannot end — successfully or not — while a write still runs: the group is awaited before
/// the temp files are removed. Replaces one unstructured `Task` (and thread) per layer with
/// no bound, which let a build of many large COPYs hold every layer's buffers at once.
final class LayerWriteQueue: @unchecked Sendable {
    // @unchecked: `cancelled` is read and written under `lock`; the stream's continuation
    // is itself thread-safe.
    typealias Work = @Sendable () async throws -> WrittenLayer

    private struct Job: Sendable {
        let work: Work
        let pending: PendingLayerWrite
    }

    private let jobs: AsyncStream<Job>
    private let submissions: AsyncStream<Job>.Continuation
    private let lock = NSLock()
    private var cancelled = false

    /// Writes at once. Each write already compresses on every core (`ParallelGzipSink`) and
    /// holds ~9 MB of buffers on 2 cores; two at once overlap one write's tar-and-hash thread
    /// with the other's compression, and more only add memory.
    static let defaultLimit = 2

    private init() {
        (jobs, submissions) = AsyncStream.makeStream(of: Job.self)
    }

    /// Runs `body` with a queue whose writes run beside it, at most `limit` at once, and
    /// returns once `body` has and every write it queued has ended. When `body` throws,
    /// writes not yet started are dropped (their `value` throws `CancellationError`) and the
    /// ones running are awaited before the error goes on.
    static func withLayerWrites<T>(limit: Int = defaultLimit, _ body: (LayerWriteQueue) async throws -> T) async throws -> T {
        let queue = LayerWriteQueue()
        async let drained: Void = queue.drain(limit: max(1, limit))
        do {
            let result = try await body(queue)
            queue.submissions.finish()
            await drained
            return result
        } catch {
            queue.lock.withLock { queue.cancelled = true }
            queue.submissions.finish()
            await drained
            throw error
        }
    }

    /// Queues a write; it starts when fewer than `limit` others run.
    func submit(uploads: Bool = false, _ work: @escaping Work) -> PendingLayerWrite {
        let pending = PendingLayerWrite(uploads: uploads)
        if case .terminated = submissions.yield(Job(work: work, pending: pending)) {
            pending.complete(.failure(CancellationError()))
        }
        return pending
    }

    /// The group's owner: starts queued writes as children, waiting for one to end whenever
    /// `limit` run.
    private func drain(limit: Int) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await job in jobs {
                if running >= limit {
                    await group.next()
                    running -= 1
                }
                if lock.withLock({ cancelled }) {
                    job.pending.complete(.failure(CancellationError()))
                    continue
                }
                group.addTask {
                    let outcome: Result<WrittenLayer, any Error>
                    do { outcome = .success(try await job.work()) } catch { outcome = .failure(error) }
                    job.pending.complete(outcome)
                }
                running += 1
            }
        }
    }
}
