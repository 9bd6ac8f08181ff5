import HTTPTransport
import AsyncHTTPClient
import ImageModel
import NIOCore

/// A blob body read from a registry, checked on the fly: SHA-256 and length must match the
/// descriptor before the last chunk is handed on. The body resumes after a dropped
/// connection (`ResumableBody`), and the hash runs over the whole resumed stream.
///
/// One chunk is always held back until the next arrives (or the source ends and the hash
/// checks out), so a consumer never sees the final bytes of a wrong blob. Pull-based: a chunk
/// is read from the source only when the consumer asks, so memory stays at a few chunks
/// whatever the blob size. (A push checks what it forwards with `ImageModel`'s own verifier.)
///
/// `@unchecked Sendable` because it is handed to the task that consumes it; safe as long as
/// one consumer at a time calls `next()`, so the hash and counters are that consumer's alone.
final class VerifyingBlobStream: @unchecked Sendable {
    let digest: Digest
    /// The length the bytes must have; nil when neither the descriptor nor the response says.
    let expectedSize: Int64?
    private let origin: RegistryRepository
    private let body: ResumableBody
    private var hash = SHA256Stream()
    private var count: Int64 = 0
    private var pending: ByteBuffer?
    private var finished = false
    private let onBytes: (@Sendable (Int) -> Void)?

    /// - Parameters:
    ///   - size: the expected length, when known.
    ///   - origin: the repository the bytes come from, for error messages.
    ///   - onBytes: called with each chunk's size as it is handed on.
    init(_ body: ResumableBody, digest: Digest, size: Int64?, origin: RegistryRepository,
         onBytes: (@Sendable (Int) -> Void)? = nil) {
        self.body = body
        self.digest = digest
        self.expectedSize = size
        self.origin = origin
        self.onBytes = onBytes
    }

    /// The next verified chunk; nil at the (verified) end. Throws on a mismatch or a read error.
    func next() async throws -> ByteBuffer? {
        if finished { return nil }
        while true {
            guard let chunk = try await body.next() else {
                finished = true
                try verifyEnd()
                let last = pending
                pending = nil
                if let last { onBytes?(last.readableBytes) }
                return last
            }
            guard chunk.readableBytes > 0 else { continue }
            count += Int64(chunk.readableBytes)
            if let expectedSize, count > expectedSize {
                try fail("the registry sent more than the expected \(expectedSize) bytes")
            }
            chunk.withUnsafeReadableBytes { hash.update($0) }
            let previous = pending
            pending = chunk
            if let previous {
                onBytes?(previous.readableBytes)
                return previous
            }
        }
    }

    private func verifyEnd() throws {
        if let expectedSize, count != expectedSize {
            try fail("the registry sent \(count) bytes, expected \(expectedSize)")
        }
        let actual = hash.finalize()
        if actual != digest {
            try fail("content hashes to \(actual)")
        }
    }

    private func fail(_ reason: String) throws -> Never {
        let error = origin.error(.digestMismatch, "blob \(digest) is corrupt at the source: \(reason)")
        finished = true
        pending = nil
        throw error
    }
}
