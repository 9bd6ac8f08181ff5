import AsyncHTTPClient
import Foundation
import HTTPTransport
import NIOCore

extension RegistryClient {
    /// Downloads `url` (http or https) to `path`, streaming, following redirects (no
    /// credentials go anywhere); retries connection failures and 408/429/5xx before any byte is
    /// written. Returns Last-Modified.
    public func download(_ url: String, to path: String) async throws -> Date? {
        let host = URL(string: url)?.host ?? url
        let response: HTTPClientResponse
        do {
            response = try await transport.downloading.send(TransportRequest(url: url))
        } catch let error as TransportError {
            throw RegistryError(.transport, registry: host, "cannot download \(url): \(TransientErrors.describe(error))",
                                underlying: error)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            await discardBody(response)
            throw RegistryError(.notFound, registry: host, status: status, "cannot download \(url)")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RegistryError(.transport, registry: host, "\(path): cannot write the download of \(url)")
        }
        defer { try? handle.close() }
        do {
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(chunk.readableBytesView))
            }
        } catch {
            throw RegistryError(.transport, registry: host, "cannot download \(url): \(TransientErrors.describe(error))")
        }
        return response.headers.first(name: "Last-Modified").flatMap(HTTPDate.parse)
    }
}
