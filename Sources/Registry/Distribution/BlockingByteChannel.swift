import Dispatch
import Foundation
import NIOCore

/// Hands byte chunks from a thread that may block (the layer writer's) to an async consumer
/// (an HTTP request body), holding at most `capacity` chunks: the producer waits while they
/// are all unread, so an upload slower than compression slows compression down instead of
/// buffering the layer in memory. Either side can end it: the producer with `finish`, the
/// consumer with `fail` (the request ended early), which wakes a waiting producer with the error.
final class BlockingByteChannel: @unchecked Sendable {
    // @unchecked: the queue, the waiting consumer and the end state are used under `lock`;
    // `space` counts free slots and is itself thread-safe.
    private let lock = NSLock()
    private var queue: [ByteBuffer] = []
    private var finished = false
    private var failure: (any Error)?
    private var waiting: CheckedContinuation<ByteBuffer?, any Error>?
    private let space: DispatchSemaphore
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        space = DispatchSemaphore(value: self.capacity)
    }

    /// Producer: queues a chunk, blocking while `capacity` chunks are unread. Throws the
    /// consumer's error once it has ended.
    func send(_ chunk: ByteBuffer) throws {
        space.wait()
        lock.lock()
        if let failure {
            lock.unlock()
            space.signal()
            throw failure
        }
        if let consumer = waiting {
            waiting = nil
            lock.unlock()
            space.signal()
            consumer.resume(returning: chunk)
            return
        }
        queue.append(chunk)
        lock.unlock()
    }

    /// Producer: no more chunks.
    func finish() {
        lock.lock()
        finished = true
        let consumer = waiting
        waiting = nil
        lock.unlock()
        consumer?.resume(returning: nil)
    }

    /// Either side: ends the channel with `error` (the producer's next `send` throws it, a
    /// waiting consumer gets it). The first error wins.
    func fail(_ error: any Error) {
        lock.lock()
        if failure == nil { failure = error }
        queue.removeAll()
        let consumer = waiting
        waiting = nil
        let stored = failure!
        lock.unlock()
        consumer?.resume(throwing: stored)
        for _ in 0..<capacity { space.signal() }  // wake a producer blocked on a full channel
    }

    /// The error the channel ended with, if it ended with one.
    var failed: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    /// Consumer: the next chunk, nil at the end.
    func next() async throws -> ByteBuffer? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            lock.lock()
            if let failure {
                lock.unlock()
                continuation.resume(throwing: failure)
            } else if !queue.isEmpty {
                let chunk = queue.removeFirst()
                lock.unlock()
                space.signal()
                continuation.resume(returning: chunk)
            } else if finished {
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiting = continuation
                lock.unlock()
            }
        }
    }

    /// The chunks as a stream for one consumer (an HTTP body).
    func makeStream() -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream(unfolding: { try await self.next() })
    }
}
