import Foundation
@testable import HTTPTransport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The transport makes its HTTP client (and loads the TLS trust store) on the first request
/// only: a build that contacts no registry never pays for it (issue 13).
final class LazyHTTPClientTests: XCTestCase {
    /// A loopback port nothing listens on: bound, then closed.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        XCTAssertTrue(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func testNoClientUntilTheFirstRequest() async throws {
        let idle = HTTPTransport(options: TransportOptions(maxAttempts: 1))
        XCTAssertFalse(idle.http.isMade, "making a transport loads no trust store")
        await idle.shutdown()
        XCTAssertFalse(idle.http.isMade, "shutting an unused transport down makes nothing")

        let used = HTTPTransport(options: TransportOptions(maxAttempts: 1))
        let url = "http://127.0.0.1:\(try closedPort())/v2/"
        do {
            _ = try await used.fetch(url: url)
            XCTFail("nothing listens on \(url)")
        } catch let error as TransportError {
            guard case .unreachable = error else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(used.http.isMade, "the first request made the client")
        let client = used.http.client
        XCTAssertTrue(client === used.http.client, "one client, made once")
        await used.shutdown()
    }

    /// `build --push` makes the client ahead (`prepareInBackground`): made once, the one the
    /// requests use; asked after `shutdown`, nothing is made (no client left unclosed).
    func testPreparedAheadOnceAndNeverAfterShutdown() async throws {
        let prepared = HTTPTransport(options: TransportOptions(maxAttempts: 1))
        prepared.http.prepare()
        XCTAssertTrue(prepared.http.isMade)
        let client = prepared.http.client
        prepared.http.prepare()
        XCTAssertTrue(client === prepared.http.client, "preparing again makes no second client")
        await prepared.shutdown()

        let late = HTTPTransport(options: TransportOptions(maxAttempts: 1))
        await late.shutdown()
        late.http.prepare()
        XCTAssertFalse(late.http.isMade, "a preparation after shutdown makes nothing")

        let background = HTTPTransport(options: TransportOptions(maxAttempts: 1))
        background.prepareInBackground()
        for _ in 0..<500 where !background.http.isMade { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(background.http.isMade, "made on a background thread")
        await background.shutdown()
    }
}
