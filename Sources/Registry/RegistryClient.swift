import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP side of the registry API: one shared client, scheme by registry (plain HTTP for
/// loopback and `--insecure`), authentication on challenge, bounded retries with backoff and
/// jitter, and redirects followed by hand so `Authorization` never reaches another host.
public final class RegistryClient: Sendable {
    public let options: RegistryOptions
    public let authenticator: RegistryAuthenticating
    let http: HTTPClient

    public init(options: RegistryOptions = RegistryOptions(), authenticator: RegistryAuthenticating) {
        self.options = options
        self.authenticator = authenticator
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = TrustRoots.fromEnvironment(options.environment)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30), read: .seconds(300)), decompression: .disabled)
        // A refused connection fails the request at once; `send` retries with its own bounded
        // backoff. (AHC would otherwise retry silently until the 30 s connect timeout.)
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes connections; call once when done.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Sends a registry request: adds a cached token, answers one 401 challenge, retries
    /// transient failures (replayable bodies only) and follows redirects.
    /// The caller reads (or drops) the returned response's body.
    public func send(_ request: RegistryRequest) async throws -> HTTPClientResponse {
        var authorization = await authenticator.cachedAuthorization(registry: request.registry, scopes: request.scopes)
        var answeredChallenge = false
        var url = absoluteURL(request.target, registry: request.registry)
        // Credentials go to the registry's own host only, never to where a Location or a
        // redirect points elsewhere (upload backends, blob CDNs).
        let registryHost = URL(string: options.baseURL(for: request.registry))?.host
        var method = request.method
        var redirects = 0
        var attempt = 0
        while true {
            attempt += 1
            let sameHost = URL(string: url)?.host == registryHost
            var outgoing = HTTPClientRequest(url: url)
            outgoing.method = method
            outgoing.headers.add(name: "User-Agent", value: options.userAgent)
            for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
            if let authorization, sameHost { outgoing.headers.replaceOrAdd(name: "Authorization", value: authorization) }
            if method != .GET && method != .HEAD { outgoing.body = makeBody(request) }

            let response: HTTPClientResponse
            do {
                response = try await http.execute(outgoing, timeout: .seconds(3600))
            } catch {
                if request.body.isReplayable, attempt < options.maxAttempts, Self.isTransient(error) {
                    try await backoff(attempt: attempt, retryAfter: nil)
                    continue
                }
                throw RegistryError(.transport, registry: request.registry, repository: request.scopes.first?.repository,
                                    "cannot reach the registry at \(url.split(separator: "?").first ?? ""): \(Self.describe(error))")
            }

            let status = Int(response.status.code)
            if status == 401, !answeredChallenge, sameHost,
               let challenge = response.headers.first(name: "WWW-Authenticate") {
                _ = try? await response.body.collect(upTo: 1 << 20)
                if authorization != nil {
                    await authenticator.invalidate(registry: request.registry, scopes: request.scopes)
                }
                authorization = try await authenticator.authorize(registry: request.registry, challenge: challenge,
                                                                  scopes: request.scopes, using: self)
                answeredChallenge = true
                guard request.body.isReplayable else { return response }
                attempt = 0
                continue
            }
            if [301, 302, 303, 307, 308].contains(status), let location = response.headers.first(name: "Location") {
                _ = try? await response.body.collect(upTo: 1 << 20)
                redirects += 1
                guard redirects <= 10 else {
                    throw RegistryError(.invalidResponse, registry: request.registry, status: status, "too many redirects")
                }
                url = Self.resolve(location, against: url)
                if status == 303 { method = .GET }
                continue
            }
            if Self.retriedStatuses.contains(status), request.body.isReplayable, attempt < options.maxAttempts {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
                _ = try? await response.body.collect(upTo: 1 << 20)
                try await backoff(attempt: attempt, retryAfter: retryAfter)
                continue
            }
            return response
        }
    }

    /// The statuses `send` and `fetch` retry by default.
    public static let retriedStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    /// A plain request outside the registry API (token endpoints, metadata servers, Google
    /// APIs): retries like `send` (on `retrying` statuses; a caller whose request must not run
    /// twice narrows them), no registry authentication, body collected (at most 4 MiB).
    public func fetch(url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [],
                      body: [UInt8]? = nil, retrying: Set<Int> = retriedStatuses)
        async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: options.userAgent)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            do {
                let response = try await http.execute(request, timeout: .seconds(60))
                let bytes = try await response.body.collect(upTo: 4 << 20)
                let status = Int(response.status.code)
                if retrying.contains(status), attempt < options.maxAttempts {
                    try await backoff(attempt: attempt, retryAfter: response.headers.first(name: "Retry-After").flatMap(TimeInterval.init))
                    continue
                }
                return (status, response.headers, Array(buffer: bytes))
            } catch let error as RegistryError {
                throw error
            } catch {
                if attempt < options.maxAttempts, Self.isTransient(error) {
                    try await backoff(attempt: attempt, retryAfter: nil)
                    continue
                }
                let host = URL(string: url)?.host ?? url
                throw RegistryError(.transport, registry: host, "cannot reach \(url.split(separator: "?").first ?? ""): \(Self.describe(error))")
            }
        }
    }

    // MARK: pieces

    func absoluteURL(_ target: String, registry: String) -> String {
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return target }
        return options.baseURL(for: registry) + (target.hasPrefix("/") ? target : "/" + target)
    }

    /// Resolves a `Location` header (absolute, or relative to the request URL).
    static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else { return location }
        return resolved.absoluteString
    }

    private func makeBody(_ request: RegistryRequest) -> HTTPClientRequest.Body? {
        let progress = request.onProgress
        switch request.body {
        case .none:
            return nil
        case .bytes(let bytes):
            return .bytes(ByteBuffer(bytes: bytes))
        case .file(let path, let size):
            return .stream(FileChunks(path: path, onProgress: progress), length: .known(size))
        case .stream(let length, let makeStream):
            let stream = makeStream()
            guard let progress else { return .stream(stream, length: .known(length)) }
            return .stream(stream.map { buffer -> ByteBuffer in progress(buffer.readableBytes); return buffer }, length: .known(length))
        }
    }

    private func backoff(attempt: Int, retryAfter: TimeInterval?) async throws {
        var delay = min(options.maxBackoff, options.initialBackoff * pow(2, Double(attempt - 1)))
        delay *= 1 + Double.random(in: 0...0.25)
        if let retryAfter { delay = min(max(retryAfter, 0), 60) }
        try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
    }

    /// Connection failures, resets and timeouts: worth another try. Bad URLs and cancellation are not.
    static func isTransient(_ error: Error) -> Bool {
        if let error = error as? HTTPClientError {
            return ![.cancelled, .invalidURL, .emptyHost, .emptyScheme, .unsupportedScheme("")].contains(error)
                && !String(describing: error).contains("unsupportedScheme")
        }
        if error is ChannelError || error is IOError { return true }
        return "\(type(of: error))".contains("ConnectionError")
    }

    /// A short human reason for a transport error (`connection refused`, `timed out`).
    static func describe(_ error: Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("refused") {
            return "connection refused"
        }
        if text.lowercased().contains("timeout") { return "timed out" }
        if let ssl = error as? NIOSSLError { return "TLS: \(ssl)" }
        if text.contains("NIOSSL") || text.contains("handshake") { return "TLS: \(text)" }
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}

/// A file's bytes as an async sequence of 1 MiB buffers, read as the upload asks for them.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let onProgress: (@Sendable (Int) -> Void)?

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        let onProgress: (@Sendable (Int) -> Void)?
        let path: String

        mutating func next() async throws -> ByteBuffer? {
            guard let handle else { throw RegistryError(.transport, registry: "local", "\(path): cannot open for upload") }
            let data = try handle.read(upToCount: 1 << 20) ?? Data()
            if data.isEmpty {
                try? handle.close()
                return nil
            }
            onProgress?(data.count)
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: FileHandle(forReadingAtPath: path), onProgress: onProgress, path: path)
    }
}
