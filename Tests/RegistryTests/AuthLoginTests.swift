import XCTest
@testable import GoogleAuth
@testable import HTTPTransport
@testable import Registry

final class AuthLoginTests: XCTestCase {
    var dir = ""
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(self)
        try installTestHelper(in: dir)
        env = ["HOME": dir + "/home", "DOCKER_CONFIG": dir + "/docker", "PATH": dir + "/bin:/usr/bin:/bin",
               "HELPER_LOG": dir + "/helper"]
    }

    func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func config() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/docker/config.json"))) as? [String: Any] ?? [:]
    }

    func testStoreWritesAuthsWithMode0600AndKeepsOtherKeys() async throws {
        try writeFile(dir + "/docker/config.json", #"{"auths": {"other.example": {"auth": "eDp5"}}, "psFormat": "table {{.ID}}"}"#)
        let resolver = CredentialResolver(environment: env)
        let place = try await RegistryLogin.store(.basic(username: "me", password: "pw"), for: "https://Reg.example:5000/v2/",
                                                  resolver: resolver)
        XCTAssertEqual(place, .file(dir + "/docker/config.json"))
        XCTAssertEqual(try mode(dir + "/docker/config.json"), 0o600)
        let object = try config()
        XCTAssertEqual(object["psFormat"] as? String, "table {{.ID}}")
        let auths = object["auths"] as? [String: [String: String]]
        XCTAssertEqual(auths?["reg.example:5000"], ["auth": base64("me:pw")])
        XCTAssertEqual(auths?["other.example"], ["auth": "eDp5"])
        let resolved = try await resolver.resolve(registry: "reg.example:5000")
        XCTAssertEqual(resolved?.credential, .basic(username: "me", password: "pw"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/docker"), ["config.json"], "no temporary left")

        // Docker Hub goes under docker's index key; logging in again replaces the entry.
        _ = try await RegistryLogin.store(.basic(username: "hub", password: "1"), for: "docker.io", resolver: resolver)
        _ = try await RegistryLogin.store(.basic(username: "hub", password: "2"), for: "index.docker.io", resolver: resolver)
        let hub = (try config()["auths"] as? [String: [String: String]])?["https://index.docker.io/v1/"]
        XCTAssertEqual(hub, ["auth": base64("hub:2")])

        let erased = try await RegistryLogin.erase(registry: "reg.example:5000", resolver: resolver)
        XCTAssertTrue(erased)
        let again = try await RegistryLogin.erase(registry: "reg.example:5000", resolver: resolver)
        XCTAssertFalse(again)
        XCTAssertNil((try config()["auths"] as? [String: Any])?["reg.example:5000"])
        XCTAssertEqual(try mode(dir + "/docker/config.json"), 0o600)
        XCTAssertEqual(try config()["psFormat"] as? String, "table {{.ID}}")
    }

    func testStoreCreatesConfigDirectory() async throws {
        let resolver = CredentialResolver(environment: env)
        _ = try await RegistryLogin.store(.basic(username: "me", password: "pw"), for: "new.example", resolver: resolver)
        XCTAssertEqual(try mode(dir + "/docker/config.json"), 0o600)
    }

    func testStoreAndEraseThroughCredsStore() async throws {
        try writeFile(dir + "/docker/config.json", #"{"credsStore": "test"}"#)
        let resolver = CredentialResolver(environment: env)
        let place = try await RegistryLogin.store(.basic(username: "me", password: "pw"), for: "kept.example", resolver: resolver)
        XCTAssertEqual(place, .helper("docker-credential-test"))
        let payload = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/helper.store"))) as? [String: String]
        XCTAssertEqual(payload, ["ServerURL": "kept.example", "Username": "me", "Secret": "pw"])
        let auths = try config()["auths"] as? [String: [String: String]]
        XCTAssertEqual(auths?["kept.example"], [:], "an empty auths entry, as docker leaves")
        XCTAssertFalse(try String(contentsOfFile: dir + "/docker/config.json", encoding: .utf8).contains("pw"))

        let erased = try await RegistryLogin.erase(registry: "kept.example", resolver: resolver)
        XCTAssertTrue(erased)
        XCTAssertEqual(try String(contentsOfFile: dir + "/helper.erase", encoding: .utf8), "kept.example")
        XCTAssertNil((try config()["auths"] as? [String: Any])?["kept.example"])
    }

    func testVerifyTable() async throws {
        let good = "Basic " + base64("me:pw")
        let cases: [(name: String, ping: AuthHTTPReply, expected: String?)] = [
            ("open registry", AuthHTTPReply(status: 200, headers: [], body: []), nil),
            ("basic", AuthHTTPReply(status: 401, headers: [("WWW-Authenticate", #"Basic realm="r""#)], body: []), nil),
            ("bearer", AuthHTTPReply(status: 401, headers: [("WWW-Authenticate", #"Bearer realm="https://t.example/token",service="s""#)], body: []), nil),
            ("not a registry", AuthHTTPReply(status: 404, headers: [], body: []),
             "r.example: https://r.example/v2/ does not answer like a registry (HTTP 404)"),
        ]
        for c in cases {
            for password in ["pw", "bad"] {
                let http = FakeHTTP { call in
                    if call.header("Authorization") == nil { return c.ping }
                    if call.header("Authorization") == good {
                        return call.url.hasPrefix("https://t.example/token") ? FakeHTTP.json(["token": "t"]) : AuthHTTPReply(status: 200, headers: [], body: [])
                    }
                    return AuthHTTPReply(status: 401, headers: [], body: [])
                }
                do {
                    try await RegistryLogin.verify(registry: "r.example", credential: .basic(username: "me", password: password), http: http)
                    XCTAssertTrue(c.expected == nil && (password == "pw" || c.ping.status == 200), c.name)
                } catch let error as RegistryError {
                    if password == "bad" && c.expected == nil {
                        XCTAssertEqual(error.kind, .unauthorized, c.name)
                        XCTAssertTrue(error.message.hasPrefix("authentication failed: incorrect username or password"), c.name)
                    } else {
                        XCTAssertEqual(error.description, c.expected, c.name)
                    }
                }
                if c.name == "bearer" && password == "pw" {
                    XCTAssertEqual(http.calls.last?.url, "https://t.example/token?service=s&account=me", "scope-less token request")
                }
            }
        }
    }
}
