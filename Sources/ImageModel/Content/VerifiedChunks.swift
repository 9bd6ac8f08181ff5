import Foundation

/// A blob's chunks passed on while they are hashed and counted. The stream ends with an
/// error instead of its end when the bytes run past the descriptor's size, stop short of
/// it, or hash to another digest — so a destination that commits only on a clean end never
/// commits wrong content. `onBytes` sees each chunk's size as it passes (progress).
enum VerifiedChunks {
    static func wrap(_ chunks: ContentChunks, _ descriptor: Descriptor,
                     onBytes: (@Sendable (Int) -> Void)? = nil) -> ContentChunks {
        let state = State(chunks.makeAsyncIterator(), descriptor, onBytes)
        return ContentChunks(unfolding: { try await state.next() })
    }

    /// One consumer pulls at a time (an `AsyncThrowingStream` built by `unfolding` never
    /// calls its closure concurrently), which is why the mutable state needs no lock.
    private final class State: @unchecked Sendable {
        var iterator: ContentChunks.AsyncIterator
        let descriptor: Descriptor
        var hash = SHA256Stream()
        var count: Int64 = 0
        let onBytes: (@Sendable (Int) -> Void)?

        init(_ iterator: ContentChunks.AsyncIterator, _ descriptor: Descriptor, _ onBytes: (@Sendable (Int) -> Void)?) {
            self.iterator = iterator
            self.descriptor = descriptor
            self.onBytes = onBytes
        }

        /// The chunk before the newest: the last one is held back until the whole blob has
        /// been checked, so a destination that sends as it receives (an HTTP body of known
        /// length) never sends the final bytes of wrong content.
        var pending: [UInt8]?
        var finished = false

        func next() async throws -> [UInt8]? {
            while !finished {
                guard let chunk = try await iterator.next() else {
                    finished = true
                    try verifyEnd()
                    defer { pending = nil }
                    return pending
                }
                count += Int64(chunk.count)
                guard count <= descriptor.size else {
                    finished = true
                    throw ContentError.sizeMismatch(descriptor.digest, expected: descriptor.size, actual: count)
                }
                hash.update(chunk)
                onBytes?(chunk.count)
                let previous = pending
                pending = chunk
                if let previous { return previous }
            }
            return nil
        }

        private func verifyEnd() throws {
            guard count == descriptor.size else {
                throw ContentError.sizeMismatch(descriptor.digest, expected: descriptor.size, actual: count)
            }
            let actual = hash.finalize()
            if descriptor.digest.algorithm == "sha256", actual != descriptor.digest {
                throw ContentError.digestMismatch(descriptor.digest, actual: actual)
            }
        }
    }
}
