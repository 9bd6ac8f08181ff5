import Foundation
import NIOHTTP1
import HTTPTransport
import TemporaryDirectories
import XCTest
@testable import Registry

/// A stand-in for the network: records every request and answers from a handler.
/// `@unchecked Sendable` is safe: `recorded` is reached only while `lock` is held.
final class FakeHTTP: AuthHTTP, @unchecked Sendable {
    struct Call {
        var method: String
        var url: String
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        /// Query or form parameters, in order.
        var parameters: [(String, String)] {
            let text = method == "POST" ? body : String(url.split(separator: "?", maxSplits: 1).dropFirst().first ?? "")
            return text.split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }
        }
        func values(_ name: String) -> [String] { parameters.filter { $0.0 == name }.map(\.1) }
    }

    private let lock = NSLock()
    private var recorded: [Call] = []
    let handler: @Sendable (Call) throws -> AuthHTTPReply

    init(_ handler: @escaping @Sendable (Call) throws -> AuthHTTPReply) { self.handler = handler }

    var calls: [Call] { lock.withLock { recorded } }

    private func answer(_ call: Call) throws -> AuthHTTPReply {
        lock.withLock { recorded.append(call) }
        return try handler(call)
    }

    func fetchReply(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> AuthHTTPReply {
        try answer(Call(method: "\(method)", url: url, headers: headers, body: String(decoding: body ?? [], as: UTF8.self)))
    }

    func probeReply(url: String, headers: [(String, String)], timeout: TimeInterval) async throws -> AuthHTTPReply {
        try answer(Call(method: "GET", url: url, headers: headers, body: ""))
    }

    func authBaseURL(for registry: String) -> String { "https://\(registry)" }

    static func json(_ object: [String: Any], status: Int = 200) -> AuthHTTPReply {
        AuthHTTPReply(status: status, headers: [("Content-Type", "application/json")],
                      body: Array(try! JSONSerialization.data(withJSONObject: object)))
    }
}

/// A clock tests move by hand. `@unchecked Sendable` is safe: `current` is reached only under `lock`.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// A temporary directory removed at the end of the test (`TemporaryDirectories.makeTemporaryDirectory`).
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    try TemporaryDirectories.makeTemporaryDirectory("swiftdock-auth")
}

func writeFile(_ path: String, _ text: String, mode: Int = 0o644) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

/// `docker-credential-test`, a credential helper script: knows `helper.example` (a
/// password), `token.example` (an identity token) and `broken.example` (fails); records
/// `store` payloads and `erase` servers in `$HELPER_LOG`.
func installTestHelper(in directory: String) throws {
    try writeFile(directory + "/bin/docker-credential-test", #"""
        #!/bin/sh
        input=$(cat)
        case "$1" in
        get)
            case "$input" in
            helper.example) printf '{"ServerURL":"helper.example","Username":"helperuser","Secret":"helperpass"}\n' ;;
            token.example) printf '{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-123"}\n' ;;
            https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hubuser","Secret":"hubpass"}\n' "$input" ;;
            broken.example) echo "keychain is locked"; exit 1 ;;
            *) if [ -f "$HELPER_LOG.store" ] && grep -q "\"ServerURL\":\"$input\"" "$HELPER_LOG.store"; then
                   printf '{"Username":"stored","Secret":"stored-secret"}\n'
               else
                   echo "credentials not found in native keychain"; exit 1
               fi ;;
            esac ;;
        store) printf '%s' "$input" > "$HELPER_LOG.store" ;;
        erase) printf '%s' "$input" > "$HELPER_LOG.erase"; rm -f "$HELPER_LOG.store" ;;
        *) echo "unknown verb $1"; exit 2 ;;
        esac
        """#, mode: 0o755)
}
