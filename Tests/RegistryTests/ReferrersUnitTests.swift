import Foundation
import ImageModel
@testable import Registry
import XCTest

/// The referrers pieces that need no registry: the tag schema's name and `Link` pages.
final class ReferrersUnitTests: XCTestCase {
    /// distribution-spec v1.1's own table ("Referrers Tag Schema"): algorithm truncated to 32,
    /// encoded part to 64 (so a sha512 tag is cut).
    func testReferrersTagFollowsTheSpecTable() throws {
        let a64 = String(repeating: "a", count: 64)
        let cases: [(String, String)] = [
            ("sha256:" + a64, "sha256-" + a64),
            ("sha512:" + String(repeating: "a", count: 128), "sha512-" + a64),
            ("sha256:0123456789abcdef" + String(repeating: "0", count: 48), "sha256-0123456789abcdef" + String(repeating: "0", count: 48)),
        ]
        for (digest, tag) in cases {
            XCTAssertEqual(RegistryRepository.referrersTag(for: try Digest(parsing: digest)), tag)
        }
    }

    func testNextLink() {
        let cases: [(String, String?)] = [
            ("</v2/a/referrers/sha256:1?page=2>; rel=\"next\"", "/v2/a/referrers/sha256:1?page=2"),
            ("<https://r.example/v2/a/referrers/x?last=b>;rel=\"next\"", "https://r.example/v2/a/referrers/x?last=b"),
            ("</first>; rel=\"prev\", </second>; rel=\"next\"", "/second"),
            ("</only>; rel=\"prev\"", nil),
            ("garbage", nil),
            ("", nil),
        ]
        for (header, expected) in cases {
            XCTAssertEqual(RegistryClient.nextLink(header), expected, header)
        }
    }

    // MARK: a scripted registry

    static let subject = try! Digest(parsing: "sha256:" + String(repeating: "1", count: 64))
    static func entry(_ n: Int) -> String {
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:\(String(repeating: String(n), count: 64))\",\"size\":10,\"artifactType\":\"application/x-\(n)\"}"
    }
    static func index(_ entries: [Int]) -> String {
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[\(entries.map(entry).joined(separator: ","))]}"
    }

    private func client(_ server: ScriptedHTTPServer) -> RegistryClient {
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 1, initialBackoff: 0.01, maxBackoff: 0.05, environment: [:]),
                                    authenticator: RegistryAuthenticator(resolver: CredentialResolver(environment: [:], explicit: [:]),
                                                                         useGoogle: false))
        addTeardownBlock { await client.shutdown() }
        addTeardownBlock { server.stop() }
        return client
    }

    struct Case {
        enum Expected {
            case found(RemoteReferrers.Source, [Int])
            case fails(String)
        }
        var name: String
        var answer: @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Response
        var expected: Expected
        init(_ name: String, _ answer: @escaping @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Response, _ expected: Expected) {
            self.name = name
            self.answer = answer
            self.expected = expected
        }
    }

    /// What `fetchReferrers` makes of each registry's answers: the API (pages followed), the tag
    /// schema after a 404, nothing, and hostile answers refused with one error.
    func testFetchReferrersAgainstScriptedRegistries() async throws {
        let tagPath = "/v2/r/manifests/" + RegistryRepository.referrersTag(for: Self.subject)
        let apiPath = "/v2/r/referrers/\(Self.subject)"
        let indexType = [("Content-Type", "application/vnd.oci.image.index.v1+json")]
        let cases: [Case] = [
            Case("API, two pages", { request in
                guard request.path == apiPath else { return .text(500) }
                return request.query.isEmpty
                    ? .text(200, Self.index([2]), headers: indexType + [("Link", "<\(apiPath)?page=2>; rel=\"next\"")])
                    : .text(200, Self.index([3]), headers: indexType)
            }, .found(.api, [2, 3])),
            Case("no API, tag index", { request in
                request.path == tagPath ? .text(200, Self.index([4]), headers: indexType) : .text(404, "404 page not found")
            }, .found(.tagSchema, [4])),
            Case("no API, no tag", { _ in .text(404, "404 page not found") }, .found(.none, [])),
            Case("no API, the tag holds an image", { request in
                request.path == tagPath
                    ? .text(200, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":\(Self.entry(5)),\"layers\":[]}",
                            headers: [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
                    : .text(404)
            }, .found(.none, [])),
            Case("API answers garbage", { _ in .text(200, "<html>", headers: indexType) }, .fails("not an OCI index")),
            Case("endless pages", { _ in .text(200, Self.index([6]), headers: indexType + [("Link", "<\(apiPath)?again>; rel=\"next\"")]) },
                 .fails("more than 64 pages")),
            Case("API fails", { _ in .text(500) }, .fails("HTTP 500")),
        ]
        for test in cases {
            let server = try ScriptedHTTPServer(test.answer)
            let client = client(server)
            let repository = RegistryRepository(registry: server.host, name: "r")
            do {
                let found = try await client.fetchReferrers(of: Self.subject, in: repository)
                guard case .found(let source, let numbers) = test.expected else { return XCTFail("\(test.name): no error") }
                XCTAssertEqual(found.source, source, test.name)
                XCTAssertEqual(found.manifests.map { $0.artifactType ?? "" }, numbers.map { "application/x-\($0)" }, test.name)
            } catch {
                guard case .fails(let text) = test.expected else { return XCTFail("\(test.name): \(error)") }
                XCTAssertTrue("\(error)".contains(text), "\(test.name): \(error)")
            }
        }
    }

    /// The tag schema's index is merged, never duplicated, and a tag holding an image is left alone.
    func testAddToReferrersTag() async throws {
        let tagPath = "/v2/r/manifests/" + RegistryRepository.referrersTag(for: Self.subject)
        let indexType = [("Content-Type", "application/vnd.oci.image.index.v1+json")]
        let server = try ScriptedHTTPServer { request in
            if request.method == "GET", request.path == tagPath { return .text(200, Self.index([7]), headers: indexType) }
            if request.method == "PUT", request.path == tagPath { return .text(201) }
            return .text(404)
        }
        let client = client(server)
        let repository = RegistryRepository(registry: server.host, name: "r")
        let seven = try JSONDecoder().decode(ImageIndex.self, from: Data(Self.index([7, 8]).utf8)).manifests
        let added = try await client.addToReferrersTag(seven, subject: Self.subject, in: repository)
        XCTAssertEqual(added, [seven[1].digest])
        let put = try XCTUnwrap(server.requests.last { $0.method == "PUT" })
        XCTAssertEqual(put.header("Content-Type"), "application/vnd.oci.image.index.v1+json")
        let merged = try JSONDecoder().decode(ImageIndex.self, from: Data(put.body))
        XCTAssertEqual(merged.manifests.map(\.digest), seven.map(\.digest))
        // Nothing new: no PUT at all.
        let puts = server.requests.filter { $0.method == "PUT" }.count
        let none = try await client.addToReferrersTag([seven[0]], subject: Self.subject, in: repository)
        XCTAssertEqual(none, [])
        XCTAssertEqual(server.requests.filter { $0.method == "PUT" }.count, puts)
    }
}
