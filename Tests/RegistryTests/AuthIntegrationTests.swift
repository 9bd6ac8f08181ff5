import Foundation
import ProcessWaiting
import XCTest
@testable import GoogleAuth
@testable import HTTPTransport
@testable import Registry

/// Authentication against real registries on loopback: a `docker-registry` with htpasswd
/// started here, and the fixtures `scripts/registries.sh start` exports (skipped without them).
final class AuthIntegrationTests: XCTestCase {
    static let environment = ProcessInfo.processInfo.environment
    var user: String { Self.environment["SWIFTDOCK_TEST_USER"] ?? "tester" }
    var password: String { Self.environment["SWIFTDOCK_TEST_PASSWORD"] ?? "s3cret" }

    func fixture(_ name: String) throws -> String {
        guard let value = Self.environment[name], !value.isEmpty else { throw XCTSkip("\(name) is not set (scripts/registries.sh start)") }
        return RegistryHost.normalize(value)
    }

    /// An authenticator that reads nothing from this machine's files.
    func authenticator(_ extra: [String: String] = [:], explicit: [String: RegistryCredential] = [:],
                       google: Set<String> = []) throws -> RegistryAuthenticator {
        var env = ["HOME": try makeTemporaryDirectory(self), "PATH": "/usr/bin:/bin", "GCE_METADATA_HOST": "127.0.0.1:9"]
        env.merge(extra) { $1 }
        return RegistryAuthenticator(resolver: CredentialResolver(environment: env, explicit: explicit), googleRegistries: google)
    }

    /// The status of `GET /v2/<repo>/tags/list` through the transport.
    func tagsStatus(_ registry: String, _ auth: RegistryAuthenticating, repository: String = "swiftdock/auth-test") async throws -> Int {
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 1), authenticator: auth)
        defer { Task { await client.shutdown() } }
        let response = try await client.send(RegistryRequest(method: .GET, registry: registry, target: "/v2/\(repository)/tags/list",
                                                            scopes: [.pull(repository)]))
        _ = try? await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    func assertAuthorized(_ status: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue([200, 404].contains(status), "\(what): HTTP \(status)", file: file, line: line)
    }

    func assertWrongPassword(_ registry: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let auth = try authenticator(explicit: [registry: .basic(username: user, password: "not-the-password")])
        do {
            let status = try await tagsStatus(registry, auth)
            XCTFail("wrong password accepted: HTTP \(status)", file: file, line: line)
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .unauthorized, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix("authentication failed: incorrect username or password"), error.description,
                          file: file, line: line)
            XCTAssertFalse(error.description.contains("not-the-password") || error.description.contains("\n"), file: file, line: line)
        }
    }

    // MARK: a registry with htpasswd started here

    func testHtpasswdRegistryStartedHere() async throws {
        let registry = try startHtpasswdRegistry()
        let good = try authenticator(explicit: [registry: .basic(username: "tester", password: "s3cret")])
        assertAuthorized(try await tagsStatus(registry, good), "htpasswd")
        assertAuthorized(try await tagsStatus(registry, good, repository: "other/repo"), "htpasswd, cached Basic")
        do {
            _ = try await tagsStatus(registry, try authenticator())
            XCTFail("anonymous access to an htpasswd registry")
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .unauthorized)
        }
    }

    func testHtpasswdWrongPasswordAndLogin() async throws {
        let registry = try startHtpasswdRegistry()
        try await assertWrongPassword(registry)
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 1), authenticator: AnonymousAuthenticator())
        defer { Task { await client.shutdown() } }
        try await RegistryLogin.verify(registry: registry, credential: .basic(username: "tester", password: "s3cret"), using: client)
        do {
            try await RegistryLogin.verify(registry: registry, credential: .basic(username: "tester", password: "nope"), using: client)
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.kind, .unauthorized)
        }
    }

    func testAnonymousRequestWithoutCredentialsSaysHowToLogIn() async throws {
        let registry = try startHtpasswdRegistry()
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 1), authenticator: try authenticator())
        defer { Task { await client.shutdown() } }
        do {
            _ = try await client.send(RegistryRequest(method: .GET, registry: registry, target: "/v2/_catalog", scopes: []))
            XCTFail("expected an error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.message, "authentication required and no credentials are configured (run `swiftdock login \(registry)`)")
        }
    }

    // MARK: fixtures from scripts/registries.sh

    func testOpenRegistryNeedsNothing() async throws {
        let registry = try fixture("SWIFTDOCK_TEST_REGISTRY_OPEN")
        assertAuthorized(try await tagsStatus(registry, try authenticator()), "open")
    }

    func testFixtureHtpasswd() async throws {
        let registry = try fixture("SWIFTDOCK_TEST_REGISTRY_HTPASSWD")
        assertAuthorized(try await tagsStatus(registry, try authenticator(explicit: [registry: .basic(username: user, password: password)])), "htpasswd")
        try await assertWrongPassword(registry)
    }

    func testTokenRegistriesWithPassword() async throws {
        for name in ["SWIFTDOCK_TEST_REGISTRY_TOKEN", "SWIFTDOCK_TEST_REGISTRY_TOKEN_AR"] {
            let registry = try fixture(name)
            let auth = try authenticator(explicit: [registry: .basic(username: user, password: password)])
            assertAuthorized(try await tagsStatus(registry, auth), name)
            let cached = await auth.cachedAuthorization(registry: registry, scopes: [.pull("swiftdock/auth-test")])
            XCTAssertNotNil(cached, name)
            try await assertWrongPassword(registry)
            let client = RegistryClient(options: RegistryOptions(maxAttempts: 1), authenticator: AnonymousAuthenticator())
            try await RegistryLogin.verify(registry: registry, credential: .basic(username: user, password: password), using: client)
            await client.shutdown()
        }
    }

    func testTokenRegistryWithCredentialsFromDockerConfig() async throws {
        let registry = try fixture("SWIFTDOCK_TEST_REGISTRY_TOKEN")
        let dir = try makeTemporaryDirectory(self)
        try writeFile(dir + "/config.json", #"{"auths": {"http://\#(registry)": {"auth": "\#(base64("\(user):\(password)"))"}}}"#)
        assertAuthorized(try await tagsStatus(registry, try authenticator(["DOCKER_CONFIG": dir])), "docker config")
    }

    func testGoogleCredentialsAgainstTokenRegistries() async throws {
        let tokenURI = Self.environment["SWIFTDOCK_TEST_GOOGLE_TOKEN_URI"] ?? ""
        let dir = try makeTemporaryDirectory(self)
        var sources: [(String, [String: String])] = []
        for (name, file) in [("SWIFTDOCK_TEST_SA_KEY", "sa.json"), ("SWIFTDOCK_TEST_ADC_USER", "adc.json")] {
            guard let value = Self.environment[name], !value.isEmpty else { continue }
            let path = value.hasPrefix("{") ? dir + "/" + file : value
            if value.hasPrefix("{") { try writeFile(path, value) }
            sources.append((name, ["GOOGLE_APPLICATION_CREDENTIALS": path, "SWIFTDOCK_GOOGLE_TOKEN_URI": tokenURI]))
        }
        if let metadata = Self.environment["GCE_METADATA_HOST"], !metadata.isEmpty {
            sources.append(("GCE_METADATA_HOST", ["GCE_METADATA_HOST": metadata]))
        }
        guard !sources.isEmpty else { throw XCTSkip("no Google stand-in credentials exported") }
        for name in ["SWIFTDOCK_TEST_REGISTRY_TOKEN_AR", "SWIFTDOCK_TEST_REGISTRY_TOKEN"] {
            let registry = try fixture(name)
            for (source, env) in sources {
                let auth = try authenticator(env, google: [registry])
                assertAuthorized(try await tagsStatus(registry, auth), "\(name) with \(source)")
            }
        }
    }

    // MARK: helpers

    /// Starts `docker-registry` with htpasswd auth (tester / s3cret) on a free loopback port.
    func startHtpasswdRegistry() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else { throw XCTSkip("docker-registry is not installed") }
        let dir = try makeTemporaryDirectory(self)
        // bcrypt of "s3cret" (htpasswd -nbB tester s3cret).
        let htpasswd = Process()
        htpasswd.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
        htpasswd.arguments = ["-cbB", dir + "/htpasswd", "tester", "s3cret"]
        htpasswd.standardError = FileHandle.nullDevice
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/htpasswd") else { throw XCTSkip("htpasswd (apache2-utils) is not installed") }
        try htpasswd.runToExit()
        let port = try freePort()
        try writeFile(dir + "/config.yml", """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(dir)/data
            http:
              addr: 127.0.0.1:\(port)
            auth:
              htpasswd:
                realm: swiftdock-test
                path: \(dir)/htpasswd
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", dir + "/config.yml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exit = try ProcessExit.start(process)
        addTeardownBlock {
            process.terminate()
            exit.wait()
        }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if canConnect(port: port) { return "127.0.0.1:\(port)" }
            usleep(50_000)
        }
        throw XCTSkip("docker-registry did not start on port \(port)")
    }
}

/// A loopback port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw XCTSkip("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
