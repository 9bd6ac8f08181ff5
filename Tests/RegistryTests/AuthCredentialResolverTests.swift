import XCTest
@testable import Registry

final class AuthCredentialResolverTests: XCTestCase {
    var dir = ""
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(self)
        try installTestHelper(in: dir)
        env = ["HOME": dir + "/home", "DOCKER_CONFIG": dir + "/docker", "PATH": dir + "/bin:/usr/bin:/bin",
               "HELPER_LOG": dir + "/helper"]
    }

    func resolve(_ registry: String, _ environment: [String: String]? = nil,
                 explicit: [String: RegistryCredential] = [:]) async throws -> ResolvedCredential? {
        try await CredentialResolver(environment: environment ?? env, explicit: explicit).resolve(registry: registry)
    }

    func testHostMatchingTable() {
        let cases: [(registry: String, keys: [String], expected: String?)] = [
            ("docker.io", ["https://index.docker.io/v1/"], "https://index.docker.io/v1/"),
            ("docker.io", ["index.docker.io"], "index.docker.io"),
            ("index.docker.io", ["https://index.docker.io/v1/"], "https://index.docker.io/v1/"),
            ("ghcr.io", ["https://ghcr.io"], "https://ghcr.io"),
            ("ghcr.io", ["http://ghcr.io/v2/"], "http://ghcr.io/v2/"),
            ("ghcr.io", ["ghcr.io", "https://ghcr.io"], "ghcr.io"),
            ("127.0.0.1:5000", ["127.0.0.1:5000"], "127.0.0.1:5000"),
            ("127.0.0.1:5000", ["127.0.0.1"], nil),
            ("quay.io", ["ghcr.io"], nil),
            ("GHCR.io", ["ghcr.io"], "ghcr.io"),
        ]
        for c in cases {
            XCTAssertEqual(RegistryHost.matchingKey(for: c.registry, in: c.keys), c.expected, "\(c.registry) in \(c.keys)")
        }
        XCTAssertEqual(RegistryHost.configKey("docker.io"), "https://index.docker.io/v1/")
        XCTAssertEqual(RegistryHost.configKey("https://registry-1.docker.io/v2/"), "https://index.docker.io/v1/")
        XCTAssertEqual(RegistryHost.configKey("Example.com:5000"), "example.com:5000")
        for (host, google) in [("europe-west3-docker.pkg.dev", true), ("gcr.io", true), ("eu.gcr.io", true),
                               ("pkg.dev.example.com", false), ("ghcr.io", false), ("us-docker.pkg.dev:443", true)] {
            XCTAssertEqual(RegistryHost.isGoogle(host), google, host)
        }
    }

    func testAuthsEntryFormsTable() async throws {
        try writeFile(dir + "/docker/config.json", """
            {"auths": {
              "https://index.docker.io/v1/": {"auth": "\(base64("hub:hubpw"))"},
              "https://a.example": {"username": "ua", "password": "pa"},
              "b.example": {"identitytoken": "idtok"},
              "c.example:5000": {"auth": "\(base64("u:p:with:colons"))"},
              "empty.example": {}
            }, "HttpHeaders": {"X": "y"}}
            """)
        let cases: [(String, RegistryCredential?)] = [
            ("docker.io", .basic(username: "hub", password: "hubpw")),
            ("a.example", .basic(username: "ua", password: "pa")),
            ("b.example", .identityToken("idtok")),
            ("c.example:5000", .basic(username: "u", password: "p:with:colons")),
            ("empty.example", nil),
            ("other.example", nil),
        ]
        for (registry, expected) in cases {
            let found = try await resolve(registry)
            XCTAssertEqual(found?.credential, expected, registry)
            if expected != nil { XCTAssertEqual(found?.source, dir + "/docker/config.json") }
        }
    }

    func testOrderHelperThenStoreThenAuthsThenPodmanFiles() async throws {
        env["REGISTRY_AUTH_FILE"] = dir + "/registry-auth.json"
        env["XDG_RUNTIME_DIR"] = dir + "/run"
        try writeFile(dir + "/docker/config.json", """
            {"credHelpers": {"helper.example": "test"},
             "auths": {"helper.example": {"auth": "\(base64("file:filepw"))"},
                       "plain.example": {"auth": "\(base64("docker:dockerpw"))"}}}
            """)
        try writeFile(dir + "/registry-auth.json", """
            {"auths": {"plain.example": {"auth": "\(base64("ra:rapw"))"}, "ra.example": {"auth": "\(base64("ra:rapw"))"}}}
            """)
        try writeFile(dir + "/run/containers/auth.json", """
            {"auths": {"ra.example": {"auth": "\(base64("xdg:x"))"}, "xdg.example": {"auth": "\(base64("xdg:xdgpw"))"}}}
            """)
        try writeFile(dir + "/home/.config/containers/auth.json", """
            {"auths": {"xdg.example": {"auth": "\(base64("home:h"))"}, "home.example": {"auth": "\(base64("home:homepw"))"}}}
            """)
        let cases: [(String, RegistryCredential, String)] = [
            ("helper.example", .basic(username: "helperuser", password: "helperpass"), "credential helper docker-credential-test"),
            ("plain.example", .basic(username: "docker", password: "dockerpw"), dir + "/docker/config.json"),
            ("ra.example", .basic(username: "ra", password: "rapw"), dir + "/registry-auth.json"),
            ("xdg.example", .basic(username: "xdg", password: "xdgpw"), dir + "/run/containers/auth.json"),
            ("home.example", .basic(username: "home", password: "homepw"), dir + "/home/.config/containers/auth.json"),
        ]
        for (registry, credential, source) in cases {
            let found = try await resolve(registry)
            XCTAssertEqual(found?.credential, credential, registry)
            XCTAssertEqual(found?.source, source, registry)
        }
        // Explicit credentials win over every file.
        let explicit = try await resolve("helper.example", explicit: ["helper.example": .basic(username: "cli", password: "c")])
        XCTAssertEqual(explicit?.credential, .basic(username: "cli", password: "c"))
    }

    func testCredsStoreAndHelperAnswers() async throws {
        try writeFile(dir + "/docker/config.json", """
            {"credsStore": "test", "auths": {"fallback.example": {"auth": "\(base64("fb:fbpw"))"}}}
            """)
        let helperUser = try await resolve("helper.example")
        XCTAssertEqual(helperUser?.credential, .basic(username: "helperuser", password: "helperpass"))
        let token = try await resolve("token.example")
        XCTAssertEqual(token?.credential, .identityToken("refresh-123"), "<token> user name means an identity token")
        let hub = try await resolve("docker.io")
        XCTAssertEqual(hub?.credential, .basic(username: "hubuser", password: "hubpass"), "Docker Hub's server URL on stdin")
        let notFound = try await resolve("fallback.example")
        XCTAssertEqual(notFound?.credential, .basic(username: "fb", password: "fbpw"), "not found in the helper: auths")
        let none = try await resolve("nothing.example")
        XCTAssertNil(none)
        do {
            _ = try await resolve("broken.example")
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .credentials)
            XCTAssertEqual(error.description, "broken.example: credential helper docker-credential-test get failed: keychain is locked")
        }
    }

    func testMissingHelperIsOneLineError() async throws {
        try writeFile(dir + "/docker/config.json", #"{"credHelpers": {"x.example": "nonexistent"}}"#)
        do {
            _ = try await resolve("x.example")
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.description, "x.example: credential helper docker-credential-nonexistent not found on PATH")
        }
    }

    func testEnvironmentCredentialsForCI() async throws {
        try writeFile(dir + "/docker/config.json", #"{"auths": {"a.example": {"auth": "\#(base64("f:f"))"}}}"#)
        var ci = env
        ci["SWIFTDOCK_USERNAME"] = "ci"
        ci["SWIFTDOCK_PASSWORD"] = "cipw"
        let everywhere = try await resolve("a.example", ci)
        XCTAssertEqual(everywhere?.credential, .basic(username: "ci", password: "cipw"))
        ci["SWIFTDOCK_REGISTRY"] = "b.example"
        let elsewhere = try await resolve("a.example", ci)
        XCTAssertEqual(elsewhere?.credential, .basic(username: "f", password: "f"), "SWIFTDOCK_REGISTRY limits them")
        let limited = try await resolve("https://b.example", ci)
        XCTAssertEqual(limited?.credential, .basic(username: "ci", password: "cipw"))
    }

    func testBadFilesAreOneLineErrors() async throws {
        try writeFile(dir + "/docker/config.json", "{not json")
        do {
            _ = try await resolve("a.example")
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.message, "\(dir)/docker/config.json: not a JSON object")
        }
        try writeFile(dir + "/docker/config.json", #"{"auths": {"a.example": {"auth": "bm9jb2xvbg=="}}}"#)
        do {
            _ = try await resolve("a.example")
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertTrue(error.message.hasSuffix("auths[\"a.example\"].auth is not base64 of user:password"), error.message)
        }
    }

    func testDefaultPaths() {
        let resolver = CredentialResolver(environment: ["HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/1", "REGISTRY_AUTH_FILE": "/r.json"])
        XCTAssertEqual(resolver.configPaths, ["/h/.docker/config.json", "/r.json", "/run/user/1/containers/auth.json",
                                              "/h/.config/containers/auth.json"])
    }
}
