import Foundation
import ImageModel
import ImageStore
@testable import GoogleAuth
@testable import HTTPTransport
@testable import Registry
import XCTest

/// Retries of the transport: a blob body cut short is resumed with a `Range` request (or
/// re-read whole where the registry ignores `Range`) and its digest checked over the whole
/// stream; `Retry-After` is honoured up to the bound and fails at once beyond it.
final class TransportRetryTests: XCTestCase {
    static let repository = "team/app"

    private func blob(_ scratch: String, size: Int = 300_000) throws -> ([UInt8], Digest) {
        var generator = SystemRandomNumberGenerator()
        let content = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(content).write(to: URL(fileURLWithPath: scratch + "/blob"))
        return (content, try TestImages.sha256(scratch + "/blob"))
    }

    enum RangeSupport: CaseIterable { case partialContent, ignoresRange }

    func testTruncatedBlobBodyIsResumed() async throws {
        let scratch = try scratchDirectory(self)
        let (content, digest) = try blob(scratch)
        for support in RangeSupport.allCases {
            let calls = Counter()
            let server = try ScriptedHTTPServer { request in
                guard request.path.hasSuffix("/blobs/\(digest)") else { return .text(404) }
                if calls.next() == 0 {
                    return .init(status: 200, body: content, truncateAfter: 100_000)
                }
                if support == .partialContent, let range = request.header("Range"),
                   let start = Int(range.dropFirst("bytes=".count).dropLast()) {
                    return .init(status: 206, headers: [("Content-Range", "bytes \(start)-\(content.count - 1)/\(content.count)")],
                                 body: Array(content[start...]))
                }
                return .init(status: 200, body: content)
            }
            addTeardownBlock { server.stop() }
            let store = try ImageStore(root: scratch + "/store-\(support)")
            let client = makeTestClient()
            try await client.fetchBlob(digest, size: Int64(content.count),
                                       from: RegistryRepository(registry: server.host, name: Self.repository), into: store)
            XCTAssertEqual(try store.readBlob(digest), content, "\(support)")
            let requests = server.requests
            XCTAssertEqual(requests.count, 2, "\(support)")
            XCTAssertNil(requests[0].header("Range"))
            // Where the body broke off for the client: at most what the server sent before closing
            // (AHC may drop bytes still buffered when the connection fails).
            let range = try XCTUnwrap(requests[1].header("Range"), "\(support)")
            let offset = try XCTUnwrap(Int(range.dropFirst("bytes=".count).dropLast()), range)
            XCTAssertTrue(range.hasPrefix("bytes=") && range.hasSuffix("-") && (1...100_000).contains(offset),
                          "\(support): \(range)")
            await client.shutdown()
        }
    }

    /// A resumed stream whose bytes do not hash to the digest is refused, never stored.
    func testResumedBodyIsVerifiedWhole() async throws {
        let scratch = try scratchDirectory(self)
        let (content, digest) = try blob(scratch)
        let tampered: [UInt8] = {
            var bytes = content
            bytes[250_000] ^= 0xff
            return bytes
        }()
        let calls = Counter()
        let server = try ScriptedHTTPServer { request in
            guard calls.next() > 0, let range = request.header("Range"),
                  let start = Int(range.dropFirst("bytes=".count).dropLast()) else {
                return .init(status: 200, body: content, truncateAfter: 100_000)
            }
            return .init(status: 206, headers: [("Content-Range", "bytes \(start)-\(content.count - 1)/\(content.count)")],
                         body: Array(tampered[start...]))
        }
        addTeardownBlock { server.stop() }
        let store = try ImageStore(root: scratch + "/store")
        let client = makeTestClient()
        addTeardownBlock { await client.shutdown() }
        do {
            try await client.fetchBlob(digest, size: Int64(content.count),
                                       from: RegistryRepository(registry: server.host, name: Self.repository), into: store)
            XCTFail("a tampered resumed body was accepted")
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .digestMismatch, "\(error)")
        }
        XCTAssertFalse(store.hasBlob(digest))
    }

    func testRetryAfterIsHonouredUpToItsBound() async throws {
        let calls = Counter()
        let server = try ScriptedHTTPServer { _ in
            calls.next() == 0 ? .text(429, headers: [("Retry-After", "1")]) : .text(200, headers: [("Content-Length", "7")])
        }
        addTeardownBlock { server.stop() }
        let client = makeTestClient()
        addTeardownBlock { await client.shutdown() }
        let repository = RegistryRepository(registry: server.host, name: Self.repository)
        let started = Date()
        let size = try await client.blobSize(try Digest(sha256Hex: String(repeating: "b", count: 64)), in: repository)
        XCTAssertNotNil(size)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9, "waited as asked")
        XCTAssertEqual(server.requests.count, 2)
    }

    func testRetryAfterBeyondTheBoundFailsAtOnce() async throws {
        for retryAfter in ["100000", "31", "Wed, 21 Oct 2099 07:28:00 GMT"] {
            let server = try ScriptedHTTPServer { _ in .text(429, headers: [("Retry-After", retryAfter)]) }
            addTeardownBlock { server.stop() }
            let client = makeTestClient()
            let repository = RegistryRepository(registry: server.host, name: Self.repository)
            let started = Date()
            do {
                _ = try await client.blobSize(try Digest(sha256Hex: String(repeating: "c", count: 64)), in: repository)
                XCTFail("\(retryAfter): a 429 asking to wait that long should fail")
            } catch let error as RegistryError {
                XCTAssertEqual(error.status, 429, "\(error)")
                XCTAssertTrue(error.message.contains("longer than the 30 s swiftdock waits"), "\(error)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(retryAfter): no waiting")
            XCTAssertEqual(server.requests.count, 1, "\(retryAfter)")
            await client.shutdown()
        }
    }

    func testRetryAfterValues() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertEqual(RetryPolicy.retryAfter("5", now: now), 5)
        XCTAssertEqual(RetryPolicy.retryAfter(" 0 ", now: now), 0)
        XCTAssertEqual(RetryPolicy.retryAfter("-3", now: now), 0)
        XCTAssertNil(RetryPolicy.retryAfter("soon", now: now))
        XCTAssertNil(RetryPolicy.retryAfter(nil, now: now))
        XCTAssertEqual(RetryPolicy.retryAfter("Mon, 12 Jan 1970 13:46:50 GMT", now: now), 10)
    }

    func testContentRangeStart() {
        XCTAssertEqual(ResumableBody.contentRangeStart("bytes 100-199/200"), 100)
        XCTAssertEqual(ResumableBody.contentRangeStart("bytes 0-0/*"), 0)
        XCTAssertNil(ResumableBody.contentRangeStart("bytes 5-4/10"))
        XCTAssertNil(ResumableBody.contentRangeStart("items 0-4/10"))
        XCTAssertNil(ResumableBody.contentRangeStart("bytes */10"))
    }
}

/// A thread-safe call counter for server handlers. `@unchecked Sendable` is safe: `value` is
/// reached only under `lock`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    /// The count before this call.
    func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}
