import AsyncHTTPClient
import Foundation
import NIOCore

/// A GET response body that picks up where it broke off: when the connection drops or the
/// body ends short ("stream ended at an unexpected time"), it asks again for the rest with
/// `Range: bytes=<received>-` (RFC 9110 §14.2). A `206` must start at or before the bytes
/// already received (what overlaps is skipped); a registry that ignores `Range` answers `200`
/// with the whole blob, of which the bytes already received are skipped. The consumer sees
/// one continuous stream either way and hashes it whole — go-containerregistry's
/// `resumableTransport` works the same way.
///
/// `@unchecked Sendable` because it is handed to the task that consumes it; safe as long as one
/// consumer at a time calls `next()` (as the `unfolding` streams built on it do) — the
/// iterator and counters are that consumer's alone.
public final class ResumableBody: @unchecked Sendable {
    /// Asks for the body again from `offset` (a `Range` request through the whole stack).
    public typealias Reopen = @Sendable (_ offset: Int64) async throws -> HTTPClientResponse

    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private let reopen: Reopen
    private let expectedLength: Int64?
    private let policy: RetryPolicy
    private let url: String
    private var received: Int64 = 0
    private var skip: Int64 = 0
    private var resumes = 0

    /// - Parameters:
    ///   - response: the first response, its body unread.
    ///   - expectedLength: the length the body must reach; an earlier clean end is a truncation too.
    ///   - policy: how many resumes (`maxAttempts - 1`) and the backoff between them.
    public init(_ response: HTTPClientResponse, expectedLength: Int64?, url: String, policy: RetryPolicy, reopen: @escaping Reopen) {
        iterator = response.body.makeAsyncIterator()
        self.expectedLength = expectedLength
        self.url = url
        self.policy = policy
        self.reopen = reopen
    }

    /// Bytes handed on so far.
    public var count: Int64 { received }

    /// The next chunk; nil at the end. Not safe to call from two tasks at once (one consumer).
    public func next() async throws -> ByteBuffer? {
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
            } catch {
                guard TransientErrors.isTransient(error), resumes + 1 < policy.maxAttempts else { throw error }
                try await resume()
                continue
            }
            guard var chunk else {
                if let expectedLength, received < expectedLength, resumes + 1 < policy.maxAttempts {
                    try await resume()
                    continue
                }
                return nil
            }
            if skip > 0 {
                let dropped = min(skip, Int64(chunk.readableBytes))
                chunk.moveReaderIndex(forwardBy: Int(dropped))
                skip -= dropped
            }
            guard chunk.readableBytes > 0 else { continue }
            received += Int64(chunk.readableBytes)
            return chunk
        }
    }

    private func resume() async throws {
        resumes += 1
        try await policy.sleep(policy.backoff(after: resumes))
        let response = try await reopen(received)
        switch response.status.code {
        case 206:
            guard let range = response.headers.first(name: "Content-Range").flatMap(Self.contentRangeStart),
                  range <= received else {
                await discardBody(response)
                throw TransportError.resumeFailed(url: url, reason: "the range answer does not continue at byte \(received)")
            }
            skip = received - range
        case 200:
            skip = received
        default:
            await discardBody(response)
            throw TransportError.resumeFailed(url: url, reason: "HTTP \(response.status.code) to the range request")
        }
        iterator = response.body.makeAsyncIterator()
    }

    /// The first byte of `bytes FIRST-LAST/TOTAL` (TOTAL may be `*`); nil when malformed.
    static func contentRangeStart(_ header: String) -> Int64? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes ") else { return nil }
        let spec = text.dropFirst(6).split(separator: "/", maxSplits: 1)
        let bounds = spec.first?.split(separator: "-", maxSplits: 1) ?? []
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, first <= last else {
            return nil
        }
        return first
    }
}
