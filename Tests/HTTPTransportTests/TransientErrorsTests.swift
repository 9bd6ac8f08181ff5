import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
@testable import HTTPTransport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Transient failures are recognised by their type and code, never by their text.
final class TransientErrorsTests: XCTestCase {
    func testClassificationByType() {
        let cases: [(error: Error, transient: Bool, reason: String?)] = [
            (IOError(errnoCode: ECONNREFUSED, reason: "connect"), true, "connection refused"),
            (IOError(errnoCode: ECONNRESET, reason: "read"), true, "connection reset"),
            (IOError(errnoCode: EACCES, reason: "open"), false, nil),
            (HTTPClientError.remoteConnectionClosed, true, "the server closed the connection"),
            (HTTPClientError.readTimeout, true, "timed out"),
            (HTTPClientError.connectTimeout, true, "timed out"),
            (HTTPClientError.invalidURL, false, nil),
            (HTTPClientError.cancelled, false, nil),
            (HTTPParserError.invalidEOFState, true, "the connection closed before the response was complete"),
            (HTTPParserError.invalidChunkSize, false, nil),
            (ChannelError.ioOnClosedChannel, true, nil),
            (ChannelError.connectTimeout(.seconds(1)), true, "timed out"),
            (NIOSSLError.uncleanShutdown, true, nil),
            (NIOSSLError.noCertificateToValidate, false, nil),
            (CancellationError(), false, nil),
            (TransportError.unreachable(url: "http://h/x", cause: HTTPParserError.invalidEOFState), true, nil),
            (TransportError.unreachable(url: "http://h/x", cause: HTTPClientError.invalidURL), false, nil),
            (TransportError.tooManyRedirects(url: "http://h/x", status: 302), false, nil),
            // A message that merely mentions a connection error is not one.
            (MentionsAConnectionError(), false, nil),
        ]
        for c in cases {
            XCTAssertEqual(TransientErrors.isTransient(c.error), c.transient, "\(c.error)")
            if let reason = c.reason { XCTAssertEqual(TransientErrors.describe(c.error), reason, "\(c.error)") }
        }
    }
}

/// An error whose text reads like a connection failure but whose type is not one.
private struct MentionsAConnectionError: Error, CustomStringConvertible {
    var description: String { "ConnectionError: connection refused" }
}
