import Foundation
import ImageModel
import ImageStore
@testable import GoogleAuth
@testable import HTTPTransport
@testable import Registry
import XCTest

/// Credentials travel only to the origin (scheme, host, port) of the registry that asked for
/// them: a blob redirect or an upload `Location` to another port on 127.0.0.1 gets no
/// `Authorization` header, for Basic credentials and Bearer tokens alike.
final class TransportOriginTests: XCTestCase {
    enum Scheme: CaseIterable { case basic, bearer }
    static let user = "alice", password = "s3cret-password", token = "bearer-token-for-registry"
    static let repository = "team/app"

    /// A registry on one port that wants `scheme` credentials and sends blobs and uploads to
    /// `elsewhere` (another port, same host).
    private func makeRegistry(_ scheme: Scheme, elsewhere: ScriptedHTTPServer, blob: Digest) throws -> ScriptedHTTPServer {
        let basic = "Basic " + Data("\(Self.user):\(Self.password)".utf8).base64EncodedString()
        let server = try ScriptedHTTPServer { request in
            if request.path == "/token" {
                guard request.header("Authorization") == basic else { return .text(401) }
                return .text(200, #"{"token":"\#(Self.token)"}"#)
            }
            let expected = scheme == .basic ? basic : "Bearer " + Self.token
            guard request.header("Authorization") == expected else {
                let challenge = scheme == .basic ? #"Basic realm="test""#
                    : #"Bearer realm="http://\#(request.header("Host") ?? "")/token",service="test""#
                return .text(401, headers: [("WWW-Authenticate", challenge)])
            }
            switch (request.method, request.path) {
            case ("GET", "/v2/"):
                return .text(200, "{}")
            case ("GET", "/v2/\(Self.repository)/blobs/\(blob)"):
                return .text(307, headers: [("Location", elsewhere.base + "/storage/blob")])
            case ("POST", "/v2/\(Self.repository)/blobs/uploads/"):
                return .text(202, headers: [("Location", elsewhere.base + "/upload/session-1?state=x")])
            default:
                return .text(404)
            }
        }
        addTeardownBlock { server.stop() }
        return server
    }

    private func makeClient(for registry: ScriptedHTTPServer) -> RegistryClient {
        let credentials = CredentialResolver(environment: [:], explicit: [registry.host: .basic(username: Self.user, password: Self.password)])
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 2, initialBackoff: 0.01, maxBackoff: 0.05, environment: [:]),
                                    authenticator: RegistryAuthenticator(resolver: credentials, useGoogle: false))
        addTeardownBlock { await client.shutdown() }
        return client
    }

    func testBlobRedirectToAnotherPortCarriesNoCredentials() async throws {
        let scratch = try scratchDirectory(self)
        let content = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try Data(content).write(to: URL(fileURLWithPath: scratch + "/blob"))
        let digest = try TestImages.sha256(scratch + "/blob")
        for scheme in Scheme.allCases {
            let storage = try ScriptedHTTPServer { _ in ScriptedHTTPServer.Response(status: 200, body: content) }
            addTeardownBlock { storage.stop() }
            let registry = try makeRegistry(scheme, elsewhere: storage, blob: digest)
            let store = try ImageStore(root: scratch + "/store-\(scheme)")
            let client = makeClient(for: registry)
            try await client.fetchBlob(digest, size: Int64(content.count),
                                       from: RegistryRepository(registry: registry.host, name: Self.repository), into: store)
            XCTAssertTrue(store.hasBlob(digest), "\(scheme)")
            XCTAssertEqual(storage.requests.count, 1, "\(scheme)")
            for request in storage.requests {
                XCTAssertNil(request.header("Authorization"), "\(scheme): credentials reached another port")
            }
            XCTAssertTrue(registry.requests.contains { $0.header("Authorization") != nil }, "\(scheme): the registry got them")
        }
    }

    func testUploadLocationOnAnotherPortCarriesNoCredentials() async throws {
        let scratch = try scratchDirectory(self)
        let content = Array("layer bytes\n".utf8)
        try Data(content).write(to: URL(fileURLWithPath: scratch + "/blob"))
        let digest = try TestImages.sha256(scratch + "/blob")
        for scheme in Scheme.allCases {
            let uploads = try ScriptedHTTPServer { _ in .text(201, headers: [("Docker-Content-Digest", digest.description)]) }
            addTeardownBlock { uploads.stop() }
            let registry = try makeRegistry(scheme, elsewhere: uploads, blob: digest)
            let client = makeClient(for: registry)
            let repository = RegistryRepository(registry: registry.host, name: Self.repository)
            guard case .session(let session) = try await client.startUpload(to: repository) else {
                return XCTFail("\(scheme): expected an upload session")
            }
            try await client.finishUpload(session, digest: digest, body: .bytes(content), to: repository)
            let put = try XCTUnwrap(uploads.requests.first, "\(scheme)")
            XCTAssertEqual(put.method, "PUT")
            XCTAssertEqual(put.body, content)
            XCTAssertEqual(put.query.first { $0.0 == "digest" }?.1, digest.description)
            XCTAssertNil(put.header("Authorization"), "\(scheme): credentials reached the upload Location's port")
        }
    }

    /// A token endpoint on another origin gets what the challenge defines — service and scope
    /// (and the account name) with the Basic credentials meant for it — and never the token.
    func testTokenEndpointOnAnotherOriginGetsOnlyWhatTheChallengeDefines() async throws {
        let basic = "Basic " + Data("\(Self.user):\(Self.password)".utf8).base64EncodedString()
        let tokens = try ScriptedHTTPServer { request in
            request.header("Authorization") == basic ? .text(200, #"{"token":"\#(Self.token)"}"#) : .text(401)
        }
        addTeardownBlock { tokens.stop() }
        let registry = try ScriptedHTTPServer { request in
            guard request.header("Authorization") == "Bearer " + Self.token else {
                return .text(401, headers: [("WWW-Authenticate", #"Bearer realm="\#(tokens.base)/token",service="svc""#)])
            }
            return .text(404)
        }
        addTeardownBlock { registry.stop() }
        let client = makeClient(for: registry)
        let repository = RegistryRepository(registry: registry.host, name: Self.repository)
        for _ in 0..<2 {
            let size = try await client.blobSize(try Digest(sha256Hex: String(repeating: "a", count: 64)), in: repository,
                                                 scopes: repository.pullScopes)
            XCTAssertNil(size)
        }
        XCTAssertEqual(tokens.requests.count, 1, "the token is cached")
        let request = try XCTUnwrap(tokens.requests.first)
        XCTAssertEqual(request.path, "/token")
        XCTAssertEqual(Set(request.query.map(\.0)), ["service", "scope", "account"])
        XCTAssertEqual(request.query.first { $0.0 == "scope" }?.1, "repository:\(Self.repository):pull")
        XCTAssertEqual(request.header("Authorization"), basic)
    }

    /// Credentials of an HTTPS registry are not sent in clear text to a plain-HTTP token server
    /// its challenge names; anonymous token requests still go.
    func testPlainHTTPTokenServerOfAnHTTPSRegistryGetsNoCredentials() async throws {
        let challenge = #"Bearer realm="http://auth.example/token",service="svc""#
        for credential in [RegistryCredential.basic(username: "u", password: "p"), nil] {
            let http = FakeHTTP { _ in FakeHTTP.json(["token": "t"]) }
            let auth = RegistryAuthenticator(resolver: CredentialResolver(environment: ["HOME": "/nonexistent"],
                                                                          explicit: credential.map { ["secure.example": $0] } ?? [:]),
                                             useGoogle: false)
            do {
                _ = try await auth.authorize(registry: "secure.example", challenge: challenge, scopes: [.pull("a")], http: http)
                XCTAssertNil(credential, "credentials went to a plain-HTTP token server")
                XCTAssertNil(http.calls.first?.header("Authorization"))
            } catch let error as RegistryError {
                XCTAssertNotNil(credential, "\(error)")
                XCTAssertTrue(error.message.contains("not HTTPS"), error.message)
                XCTAssertTrue(http.calls.isEmpty)
            }
        }
    }

    func testOriginsCompareSchemeHostAndPort() {
        let cases: [(String, String, Bool)] = [
            ("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/other", true),
            ("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/v2/", false),
            ("http://registry.example/v2/", "https://registry.example/v2/", false),
            ("https://registry.example/v2/", "https://registry.example:443/x", true),
            ("https://Registry.Example/v2/", "https://registry.example/x", true),
            ("http://registry.example/v2/", "http://registry.example:80/x", true),
            ("http://registry.example/v2/", "http://registry.example.evil/x", false),
        ]
        for (a, b, same) in cases {
            XCTAssertEqual(Origin(url: a) == Origin(url: b), same, "\(a) vs \(b)")
        }
        XCTAssertNil(Origin(url: "/relative/path"))
        XCTAssertNil(Origin(url: "ftp://host/x"), "no default port")
    }
}
