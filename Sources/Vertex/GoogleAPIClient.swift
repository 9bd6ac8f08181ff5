import Foundation
import GoogleAuth
import HTTPTransport
import NIOHTTP1

/// Authenticated JSON calls to Google APIs. Transport (TLS trust, retries) is the shared
/// `HTTPTransport`; credentials are `GoogleAuth`'s sources (ADC file, service account,
/// metadata server, gcloud) with the cloud-platform scope; `SWIFTDOCK_GOOGLE_API_BASE`
/// redirects every request to a stand-in.
public final class GoogleAPIClient: Sendable {
    let transport: HTTPTransport
    let credentials: GoogleCredentials
    let base: GoogleAPIBase

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        transport = HTTPTransport(options: TransportOptions(environment: environment))
        credentials = GoogleCredentials(environment: environment)
        base = GoogleAPIBase(environment: environment)
    }

    /// Closes connections; call once when done.
    public func shutdown() async {
        await transport.shutdown()
    }

    /// Fails early when no Google credentials can be found, before any API request.
    public func checkCredentials() async throws {
        _ = try await accessToken()
    }

    /// Sends `body` (JSON) to `url` and decodes the reply. `action` names the call in errors
    /// ("create CustomJob in projects/p/locations/r").
    public func call<Body: Encodable, Reply: Decodable>(_ method: HTTPMethod, _ url: String, body: Body,
                                                        action: String, as type: Reply.Type = Reply.self) async throws -> Reply {
        try decode(try await send(method, url, body: Array(try GoogleJSON.encode(body)), action: action), url: url, action: action)
    }

    /// A request without a body (GET, DELETE).
    public func call<Reply: Decodable>(_ method: HTTPMethod, _ url: String, action: String,
                                       as type: Reply.Type = Reply.self) async throws -> Reply {
        try decode(try await send(method, url, body: nil, action: action), url: url, action: action)
    }

    /// A GET answered with Google's JSON as it came (for `describe --json`).
    public func rawJSON(_ url: String, action: String) async throws -> [UInt8] {
        try await send(.GET, url, body: nil, action: action)
    }

    private func decode<Reply: Decodable>(_ reply: [UInt8], url: String, action: String) throws -> Reply {
        do {
            return try JSONDecoder().decode(Reply.self, from: Data(reply.isEmpty ? Array("{}".utf8) : reply))
        } catch {
            throw VertexError(.api, "\(action): unexpected answer from \(Self.host(url)): \(error)")
        }
    }

    /// One request with a bearer token; a 401 drops the cached token and tries once more.
    func send(_ method: HTTPMethod, _ url: String, body: [UInt8]?, action: String) async throws -> [UInt8] {
        var headers = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        for attempt in 1...2 {
            let token = try await accessToken()
            let reply: HTTPReply
            do {
                reply = try await transport.fetch(url: base.transportURL(url), method: method,
                                                  headers: headers + [("Authorization", "Bearer " + token)], body: body,
                                                  retriedStatuses: method == .POST ? Self.retriedForPOST
                                                                                   : TransportRequest.defaultRetriedStatuses)
            } catch let error as TransportError {
                throw VertexError(.transport, "\(action): cannot reach \(Self.host(url)): \(Self.reason(error))", underlying: error)
            }
            if reply.status == 401, attempt == 1 {
                await credentials.invalidate()
                continue
            }
            guard (200..<300).contains(reply.status) else {
                throw VertexError.api(action, status: reply.status, body: reply.body)
            }
            return reply.body
        }
        throw VertexError(.credentials, "\(action): Google refused the access token twice")
    }

    private func accessToken() async throws -> String {
        let found: (token: String, source: String)?
        do {
            found = try await credentials.accessToken(using: transport)
        } catch let error as GoogleAuthError {
            throw VertexError(error.kind == .transport ? .transport : .credentials, error.message, underlying: error)
        }
        guard let found else {
            throw VertexError(.credentials, "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a key file, "
                + "run `gcloud auth application-default login`, or run on Google Cloud")
        }
        return found.token
    }

    /// A POST creates or acts: it is retried only on answers that say it was not carried out
    /// (RESOURCE_EXHAUSTED, UNAVAILABLE), so a job is never created twice after a 500.
    static let retriedForPOST: Set<Int> = [429, 503]

    /// What went wrong below HTTP, without the URL (the message names the host already).
    static func reason(_ error: TransportError) -> String {
        switch error {
        case .unreachable(_, let cause), .unreadableAnswer(_, let cause): return TransientErrors.describe(cause)
        default: return error.description
        }
    }

    static func host(_ url: String) -> String {
        URL(string: url)?.host ?? url
    }

    /// The empty body `{}` (start, stop, cancel, run).
    public struct Empty: Codable, Sendable {
        public init() {}
    }
}

/// JSON as Google's examples write it: sorted keys, slashes unescaped.
public enum GoogleJSON {
    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
