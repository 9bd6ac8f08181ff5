import AsyncHTTPClient
import Foundation
import NIOCore

extension RegistryClient {
    /// Downloads `url` (http or https) to `path`, streaming, following redirects; retries
    /// connection failures and 408/429/5xx before any byte is written. Returns Last-Modified.
    public func download(_ url: String, to path: String) async throws -> Date? {
        var current = url
        var attempt = 0
        var redirects = 0
        let host = URL(string: url)?.host ?? url
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: current)
            request.headers.add(name: "User-Agent", value: options.userAgent)
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: .seconds(3600))
            } catch {
                if attempt < options.maxAttempts, Self.isTransient(error) {
                    try await Task.sleep(nanoseconds: UInt64(options.initialBackoff * pow(2, Double(attempt - 1)) * 1e9))
                    continue
                }
                throw RegistryError(.transport, registry: host, "cannot download \(url): \(Self.describe(error))")
            }
            let status = Int(response.status.code)
            if [301, 302, 303, 307, 308].contains(status), let location = response.headers.first(name: "Location"), redirects < 10 {
                _ = try? await response.body.collect(upTo: 1 << 20)
                redirects += 1
                current = Self.resolve(location, against: current)
                continue
            }
            if [408, 429, 500, 502, 503, 504].contains(status), attempt < options.maxAttempts {
                _ = try? await response.body.collect(upTo: 1 << 20)
                try await Task.sleep(nanoseconds: UInt64(options.initialBackoff * pow(2, Double(attempt - 1)) * 1e9))
                continue
            }
            guard (200..<300).contains(status) else {
                _ = try? await response.body.collect(upTo: 1 << 20)
                throw RegistryError(.notFound, registry: host, status: status, "cannot download \(url)")
            }
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw RegistryError(.transport, registry: host, "\(path): cannot write the download of \(url)")
            }
            defer { try? handle.close() }
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(chunk.readableBytesView))
            }
            return response.headers.first(name: "Last-Modified").flatMap(Self.parseHTTPDate)
        }
    }

    /// RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
