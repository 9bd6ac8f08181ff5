import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A whole, small answer: a token endpoint's, a metadata server's, a Google API's.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Reads a response whole; a body longer than `limit` bytes fails.
    init(collecting response: HTTPClientResponse, upTo limit: Int) async throws {
        let bytes = try await response.body.collect(upTo: limit)
        self.init(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                  body: Array(buffer: bytes))
    }

    /// The first value of a header (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// What credential code needs from HTTP: a plain request with retries, and one quick probe.
/// `HTTPTransport` provides it; tests fake it. Both throw `TransportError`.
public protocol HTTPFetching: Sendable {
    /// A request with the transport's retries, no credentials attached, no redirects followed.
    func fetchReply(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> HTTPReply
    /// One quick attempt (metadata server): fails on any connection problem or after `timeout`.
    func probeReply(url: String, headers: [(String, String)], timeout: TimeInterval) async throws -> HTTPReply
}
