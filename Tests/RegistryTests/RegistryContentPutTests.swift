import Foundation
import ImageModel
@testable import Registry
import XCTest

/// `RegistryContent.put` against a scripted registry: an upload the registry answers naming
/// the same digest needs no `HEAD` to learn the blob's size; without that answer the size is
/// asked for; a different digest in the answer fails the put.
final class RegistryContentPutTests: XCTestCase {
    func testConfirmedDigestAnswersTheSizeWithoutAHead() async throws {
        let bytes = Array("{\"architecture\":\"amd64\"}".utf8)
        let digest = SHA256Stream.digest(of: bytes)
        let other = SHA256Stream.digest(of: Array("other".utf8))
        let blob = Descriptor(mediaType: MediaType.ociConfig, digest: digest, size: Int64(bytes.count))
        let cases: [(name: String, answered: String?, heads: Int, fails: Bool)] = [
            ("the answer names the digest", digest.description, 0, false),
            ("no digest in the answer", nil, 1, false),
            ("another digest in the answer", other.description, 0, true),
        ]
        for c in cases {
            let server = try ScriptedHTTPServer { request in
                switch request.method {
                case "POST": return .text(202, headers: [("Location", "/v2/r/blobs/uploads/u1")])
                case "PUT": return .text(201, headers: c.answered.map { [("Docker-Content-Digest", $0)] } ?? [])
                case "HEAD": return .text(200, headers: [("Content-Length", "\(bytes.count)")])
                default: return .text(404)
                }
            }
            let client = RegistryClient(options: RegistryOptions(maxAttempts: 1, environment: [:]),
                                        authenticator: RegistryAuthenticator(resolver: CredentialResolver(environment: [:], explicit: [:]),
                                                                             useGoogle: false))
            defer { server.stop() }
            let destination = RegistryContent(client: client, repository: RegistryRepository(registry: server.host, name: "r"))
            do {
                try await destination.put(blob, chunks: AsyncThrowingStream { $0.yield(bytes); $0.finish() })
                XCTAssertFalse(c.fails, "\(c.name): expected a digest mismatch")
                let size = try await destination.blobSize(blob)
                XCTAssertEqual(size, Int64(bytes.count), c.name)
            } catch let error as RegistryError {
                XCTAssertTrue(c.fails, "\(c.name): \(error)")
                XCTAssertEqual(error.kind, .digestMismatch, c.name)
            }
            await client.shutdown()
            let put = server.requests.first { $0.method == "PUT" }
            XCTAssertEqual(put?.body, bytes, c.name)
            XCTAssertEqual(server.requests.filter { $0.method == "HEAD" }.count, c.heads, c.name)
        }
    }
}
