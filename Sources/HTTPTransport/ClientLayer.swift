import AsyncHTTPClient
import Foundation
import NIOCore

/// The bottom layer: one exchange over the shared `HTTPClient`, nothing else — no retries,
/// no redirects (AHC's own are disabled), no credentials. Failures below HTTP come out as
/// `TransportError.unreachable` with their cause.
public struct ClientLayer: HTTPLayer {
    let http: LazyHTTPClient
    let userAgent: String

    public init(http: HTTPClient, userAgent: String) {
        self.init(lazy: LazyHTTPClient { http }, userAgent: userAgent)
    }

    /// Over a client made on the first request (see `LazyHTTPClient`).
    init(lazy http: LazyHTTPClient, userAgent: String) {
        self.http = http
        self.userAgent = userAgent
    }

    public func send(_ request: TransportRequest) async throws -> HTTPClientResponse {
        guard let origin = Origin(url: request.url), origin.scheme == "http" || origin.scheme == "https" else {
            throw TransportError.unsupportedURL(url: request.url)
        }
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        outgoing.headers.add(name: "User-Agent", value: userAgent)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if request.method != .GET && request.method != .HEAD { outgoing.body = Self.body(request) }
        do {
            return try await http.client.execute(outgoing, timeout: request.timeout)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TransportError.unreachable(url: request.url, cause: error)
        }
    }

    private static func body(_ request: TransportRequest) -> HTTPClientRequest.Body? {
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
            let announced: HTTPClientRequest.Body.Length = length.map { .known($0) } ?? .unknown
            guard let progress else { return .stream(stream, length: announced) }
            return .stream(stream.map { buffer -> ByteBuffer in progress(buffer.readableBytes); return buffer },
                           length: announced)
        }
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
            guard let handle else { throw TransportError.unreadableFile(path: path, reason: "cannot open") }
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
