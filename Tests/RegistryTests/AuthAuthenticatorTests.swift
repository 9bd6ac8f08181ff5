import ImageModel
import XCTest
@testable import GoogleAuth
@testable import HTTPTransport
@testable import Registry

final class AuthAuthenticatorTests: XCTestCase {
    let bearer = #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#

    func authenticator(_ explicit: [String: RegistryCredential] = [:], env: [String: String] = ["HOME": "/nonexistent"],
                       clock: TestClock = TestClock()) -> RegistryAuthenticator {
        RegistryAuthenticator(resolver: CredentialResolver(environment: env, explicit: explicit), useGoogle: true,
                              now: { clock.now })
    }

    static func tokenServer(_ call: FakeHTTP.Call) -> AuthHTTPReply {
        if call.header("Authorization") == "Basic " + base64("user:wrong") {
            return FakeHTTP.json(["errors": [["code": "UNAUTHORIZED", "message": "wrong password"]]], status: 401)
        }
        return FakeHTTP.json(["token": "tok-\(call.values("scope").joined(separator: "+"))", "expires_in": 300])
    }

    func testBearerTokenRequestTable() async throws {
        let cases: [(challenge: String, scopes: [AuthScope], credential: RegistryCredential?, url: String, authorization: String?)] = [
            (bearer, [.pull("a/b")], .basic(username: "user", password: "pw"),
             "https://auth.example/token?service=registry.example&scope=repository%3Aa%2Fb%3Apull&account=user",
             "Basic " + base64("user:pw")),
            // Anonymous: no Authorization, no account.
            (bearer, [.pull("a/b")], nil,
             "https://auth.example/token?service=registry.example&scope=repository%3Aa%2Fb%3Apull", nil),
            // Artifact Registry: no service; one scope= per scope, the challenge's extra scope appended.
            (#"Bearer realm="https://ar.example/v2/token",scope="repository:c/d:pull""#, [.push("a/b")], nil,
             "https://ar.example/v2/token?scope=repository%3Aa%2Fb%3Apush%2Cpull&scope=repository%3Ac%2Fd%3Apull", nil),
            // A realm with its own query.
            (#"Bearer realm="https://q.example/token?x=1""#, [], nil, "https://q.example/token?x=1", nil),
        ]
        for c in cases {
            let http = FakeHTTP { Self.tokenServer($0) }
            let auth = authenticator(c.credential.map { ["registry.example": $0] } ?? [:])
            let header = try await auth.authorize(registry: "registry.example", challenge: c.challenge, scopes: c.scopes, http: http)
            XCTAssertTrue(header.hasPrefix("Bearer tok-"), header)
            XCTAssertEqual(http.calls.count, 1)
            XCTAssertEqual(http.calls.first?.url, c.url)
            XCTAssertEqual(http.calls.first?.header("Authorization"), c.authorization)
        }
    }

    func testIdentityTokenUsesOAuth2Post() async throws {
        let http = FakeHTTP { _ in FakeHTTP.json(["access_token": "oauth-tok", "expires_in": 120]) }
        let auth = authenticator(["registry.example": .identityToken("refresh-xyz")])
        let header = try await auth.authorize(registry: "registry.example", challenge: bearer,
                                              scopes: [.push("a/b"), .pull("c/d")], http: http)
        XCTAssertEqual(header, "Bearer oauth-tok")
        let call = try XCTUnwrap(http.calls.first)
        XCTAssertEqual(call.method, "POST")
        XCTAssertEqual(call.url, "https://auth.example/token")
        XCTAssertEqual(call.header("Content-Type"), "application/x-www-form-urlencoded")
        XCTAssertNil(call.header("Authorization"))
        XCTAssertEqual(call.parameters.map(\.0), ["grant_type", "refresh_token", "service", "scope", "client_id"])
        XCTAssertEqual(call.values("grant_type"), ["refresh_token"])
        XCTAssertEqual(call.values("refresh_token"), ["refresh-xyz"])
        XCTAssertEqual(call.values("service"), ["registry.example"])
        XCTAssertEqual(call.body.components(separatedBy: "&scope=")[1].components(separatedBy: "&")[0]
            .replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                       "repository:a/b:push,pull repository:c/d:pull repository:a/b:pull")
        XCTAssertEqual(call.values("client_id"), ["swiftdock"])
    }

    func testTokenResponseFormsTable() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let cases: [([String: Any], String?, TimeInterval?)] = [
            (["token": "t"], "t", 45),                                  // default 60 s, 15 s margin
            (["access_token": "a", "expires_in": 3600], "a", 3540),     // margin at most 60 s
            (["token": "t", "access_token": "a", "expires_in": 300], "t", 240),
            (["token": "", "access_token": "a"], "a", 45),
            (["access_token": "a", "expires_in": 300, "issued_at": "2027-01-15T08:00:00Z"], "a", nil),
            (["expires_in": 300], nil, nil),
        ]
        for (object, value, lifetime) in cases {
            let token = ExpiringToken.decode(Array(try! JSONSerialization.data(withJSONObject: object)), now: now)
            XCTAssertEqual(token?.value, value, "\(object)")
            if let lifetime { XCTAssertEqual(token?.refreshAfter.timeIntervalSince(now), lifetime, "\(object)") }
        }
        // issued_at in the past shortens the life by the token's age (Go's nanosecond format too).
        let issued = now.addingTimeInterval(-100)
        for text in ["2027-01-15T08:00:00Z", "2027-01-15T08:00:00.123456789Z"] {
            let date = Timestamp.parse(text)
            XCTAssertNotNil(date, text)
        }
        let formatter = ISO8601DateFormatter()
        let aged = ExpiringToken.decode(Array(try! JSONSerialization.data(withJSONObject:
            ["token": "t", "expires_in": 300, "issued_at": formatter.string(from: issued)])), now: now)
        XCTAssertEqual(aged?.refreshAfter.timeIntervalSince(now), 200 - 50)
    }

    func testTokensAreCachedPerScopeUntilShortlyBeforeExpiry() async throws {
        let clock = TestClock()
        let http = FakeHTTP { Self.tokenServer($0) }
        let auth = authenticator(["r.example": .basic(username: "user", password: "pw")], clock: clock)
        let noneYet = await auth.cachedAuthorization(registry: "r.example", scopes: [.pull("a/b")])
        XCTAssertNil(noneYet)
        let pushHeader = try await auth.authorize(registry: "r.example", challenge: bearer, scopes: [.push("a/b")], http: http)
        let cachedPush = await auth.cachedAuthorization(registry: "r.example", scopes: [.push("a/b")])
        XCTAssertEqual(cachedPush, pushHeader)
        // A push token covers pulls of the same repository, not other repositories.
        let cachedPull = await auth.cachedAuthorization(registry: "r.example", scopes: [.pull("a/b")])
        XCTAssertEqual(cachedPull, pushHeader)
        let other = await auth.cachedAuthorization(registry: "r.example", scopes: [.pull("x/y")])
        XCTAssertNil(other)
        let otherRegistry = await auth.cachedAuthorization(registry: "s.example", scopes: [.push("a/b")])
        XCTAssertNil(otherRegistry)
        // expires_in 300: kept until 240 s, then dropped.
        clock.advance(239)
        let beforeExpiry = await auth.cachedAuthorization(registry: "r.example", scopes: [.push("a/b")])
        XCTAssertEqual(beforeExpiry, pushHeader)
        clock.advance(2)
        let afterExpiry = await auth.cachedAuthorization(registry: "r.example", scopes: [.push("a/b")])
        XCTAssertNil(afterExpiry)
        XCTAssertEqual(http.calls.count, 1)
    }

    func testInvalidateDropsTokenAndReauthorizes() async throws {
        let http = FakeHTTP { Self.tokenServer($0) }
        let auth = authenticator(["r.example": .basic(username: "user", password: "pw")])
        _ = try await auth.authorize(registry: "r.example", challenge: bearer, scopes: [.pull("a/b")], http: http)
        await auth.invalidate(registry: "r.example", scopes: [.pull("a/b")])
        let dropped = await auth.cachedAuthorization(registry: "r.example", scopes: [.pull("a/b")])
        XCTAssertNil(dropped)
        _ = try await auth.authorize(registry: "r.example", challenge: bearer, scopes: [.pull("a/b")], http: http)
        XCTAssertEqual(http.calls.count, 2)
    }

    func testBasicChallengeVerifiesOnceAndCaches() async throws {
        let http = FakeHTTP { call in
            call.header("Authorization") == "Basic " + base64("user:pw") ? AuthHTTPReply(status: 200, headers: [], body: [])
                : AuthHTTPReply(status: 401, headers: [("WWW-Authenticate", #"Basic realm="r""#)], body: [])
        }
        let auth = authenticator(["r.example": .basic(username: "user", password: "pw")])
        let header = try await auth.authorize(registry: "r.example", challenge: #"Basic realm="Registry""#, scopes: [], http: http)
        XCTAssertEqual(header, "Basic " + base64("user:pw"))
        XCTAssertEqual(http.calls.map(\.url), ["https://r.example/v2/"])
        let cached = await auth.cachedAuthorization(registry: "r.example", scopes: [.push("any/thing")])
        XCTAssertEqual(cached, header)
    }

    func testWrongPasswordIsOneLineWithoutSecrets() async throws {
        let basicHTTP = FakeHTTP { _ in AuthHTTPReply(status: 401, headers: [], body: []) }
        let tokenHTTP = FakeHTTP { Self.tokenServer($0) }
        for (challenge, http) in [(#"Basic realm="x""#, basicHTTP), (bearer, tokenHTTP)] {
            let auth = authenticator(["r.example": .basic(username: "user", password: "wrong")])
            do {
                _ = try await auth.authorize(registry: "r.example", challenge: challenge, scopes: [.pull("a/b")], http: http)
                XCTFail("expected an error")
            } catch let error as RegistryError {
                XCTAssertEqual(error.kind, .unauthorized)
                XCTAssertEqual(error.description, "r.example/a/b: authentication failed: incorrect username or password "
                               + "(user user from explicit credentials) (HTTP 401)")
                XCTAssertFalse(error.description.contains("wrong"))
            }
        }
    }

    func testNoCredentialsAndUnreachableTokenServer() async throws {
        let auth = authenticator()
        do {
            _ = try await auth.authorize(registry: "r.example", challenge: #"Basic realm="x""#, scopes: [], http: FakeHTTP { _ in
                XCTFail("no request without credentials"); return AuthHTTPReply(status: 500, headers: [], body: [])
            })
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.message, "authentication required and no credentials are configured (run `swiftdock login r.example`)")
        }
        let down = FakeHTTP { _ in
            throw RegistryError(.transport, registry: "auth.example", "cannot reach https://auth.example/token: connection refused")
        }
        do {
            _ = try await auth.authorize(registry: "r.example", challenge: bearer, scopes: [.pull("a/b")], http: down)
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .transport)
            XCTAssertEqual(error.description,
                           "r.example/a/b: token server auth.example: cannot reach https://auth.example/token: connection refused")
        }
    }

    func testGoogleRegistryFallsBackToADCUser() async throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFile(dir + "/adc.json", #"""
            {"type": "authorized_user", "client_id": "cid", "client_secret": "csecret", "refresh_token": "rtok"}
            """#)
        let env = ["HOME": dir, "GOOGLE_APPLICATION_CREDENTIALS": dir + "/adc.json",
                   "SWIFTDOCK_GOOGLE_TOKEN_URI": "http://127.0.0.1:9/token", "PATH": "/nonexistent"]
        let http = FakeHTTP { call in
            if call.url == "http://127.0.0.1:9/token" { return FakeHTTP.json(["access_token": "ya29.x", "expires_in": 3599]) }
            return FakeHTTP.json(["access_token": "registry-token", "expires_in": 300])
        }
        let auth = authenticator(env: env)
        let challenge = #"Bearer realm="https://europe-west3-docker.pkg.dev/v2/token""#
        let header = try await auth.authorize(registry: "europe-west3-docker.pkg.dev", challenge: challenge,
                                              scopes: [.pull("p/r/i")], http: http)
        XCTAssertEqual(header, "Bearer registry-token")
        XCTAssertEqual(http.calls.count, 2)
        let grant = http.calls[0]
        XCTAssertEqual(grant.method, "POST")
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: grant.parameters),
                       ["grant_type": "refresh_token", "client_id": "cid", "client_secret": "csecret", "refresh_token": "rtok"])
        XCTAssertEqual(http.calls[1].header("Authorization"), "Basic " + base64("oauth2accesstoken:ya29.x"))
        XCTAssertEqual(http.calls[1].url, "https://europe-west3-docker.pkg.dev/v2/token?scope=repository%3Ap%2Fr%2Fi%3Apull&account=oauth2accesstoken")
        // The access token is cached: another scope needs a registry token only.
        _ = try await auth.authorize(registry: "europe-west3-docker.pkg.dev", challenge: challenge,
                                     scopes: [.push("p/r/j")], http: http)
        XCTAssertEqual(http.calls.count, 3)
        // Not a Google registry: no Google credentials.
        do {
            _ = try await auth.authorize(registry: "ghcr.io", challenge: #"Basic realm="x""#, scopes: [], http: http)
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .unauthorized)
        }
    }

    func testGoogleMetadataServerThenNothing() async throws {
        let env = ["HOME": "/nonexistent", "GCE_METADATA_HOST": "127.0.0.1:7", "PATH": "/nonexistent"]
        let metadata = FakeHTTP { call in
            if call.url.hasPrefix("http://127.0.0.1:7/computeMetadata/v1/instance/service-accounts/default/token") {
                return call.header("Metadata-Flavor") == "Google" ? FakeHTTP.json(["access_token": "meta-tok", "expires_in": 100])
                    : AuthHTTPReply(status: 403, headers: [], body: [])
            }
            return FakeHTTP.json(["token": "registry-token"])
        }
        let auth = authenticator(env: env)
        _ = try await auth.authorize(registry: "gcr.io", challenge: #"Bearer realm="https://gcr.io/v2/token",service="gcr.io""#,
                                     scopes: [.pull("p/i")], http: metadata)
        XCTAssertEqual(metadata.calls.last?.header("Authorization"), "Basic " + base64("oauth2accesstoken:meta-tok"))

        // Metadata server unreachable: anonymous token request, asked only once.
        let unreachable = FakeHTTP { call in
            if call.url.contains("computeMetadata") { throw RegistryError(.transport, registry: "x", "connection refused") }
            return FakeHTTP.json(["token": "anonymous"])
        }
        let anonymous = authenticator(env: env)
        for repository in ["p/a", "p/b"] {
            let header = try await anonymous.authorize(registry: "us-docker.pkg.dev", challenge: #"Bearer realm="https://us-docker.pkg.dev/v2/token""#,
                                                       scopes: [.pull(repository)], http: unreachable)
            XCTAssertEqual(header, "Bearer anonymous")
        }
        XCTAssertEqual(unreachable.calls.filter { $0.url.contains("computeMetadata") }.count, 1)
        XCTAssertTrue(unreachable.calls.allSatisfy { $0.header("Authorization") == nil })
    }
}
