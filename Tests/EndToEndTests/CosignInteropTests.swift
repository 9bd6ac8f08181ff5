import Foundation
import XCTest

/// `swiftdock sign` / `verify` against the real `cosign` (Debian trixie's, installed by
/// scripts/setup.sh) through the CNCF registry: cosign verifies swiftdock's signatures,
/// swiftdock verifies cosign's, for EC P-256 and Ed25519 keys, plain PKCS#8 and cosign's
/// encrypted format; a moved tag and a copied signature fail `verify`.
final class CosignInteropTests: XCTestCase {
    var registry = ""
    var work = ""
    let password = "interop-pw"

    override func setUpWithError() throws {
        guard let open = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !open.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        registry = open
        XCTAssertEqual(try Harness.run("/bin/sh", ["-c", "command -v cosign"]).status, 0, "cosign is missing: run scripts/setup.sh")
        work = try Harness.makeTemporaryDirectory("cosign")
    }

    override func tearDownWithError() throws {
        if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }

    func cosign(_ arguments: [String]) throws -> CommandResult {
        try Harness.run("/usr/bin/env", ["cosign"] + arguments,
                        environment: ["COSIGN_PASSWORD": password, "HOME": work, "SIGSTORE_NO_CACHE": "true"])
    }

    func cosignVerify(_ pub: String, _ reference: String) throws -> CommandResult {
        try cosign(["verify", "--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry", reference])
    }

    /// Builds a one-file image and pushes it as `reference`; returns its manifest digest.
    func pushImage(_ swiftdock: Swiftdock, _ reference: String, content: String) throws -> String {
        let context = work + "/ctx-" + UUID().uuidString.prefix(6)
        try Harness.write("FROM scratch\nCOPY a /a\n", to: context + "/Dockerfile")
        try Harness.write(content, to: context + "/a")
        try swiftdock.ok("build", "-q", "-t", reference, context)
        let pushed = try swiftdock.ok("push", "-q", reference).stdout
        let digest = pushed.split(separator: " ").first { $0.hasPrefix("sha256:") }
        return try XCTUnwrap(digest.map(String.init), pushed)
    }

    func testCosignAndSwiftdockVerifyEachOthersSignatures() throws {
        let swiftdock = try Swiftdock()
        let repository = "\(registry)/interop-\(UUID().uuidString.prefix(8).lowercased())"
        let image = repository + ":v1"
        let digest = try pushImage(swiftdock, image, content: "signed\n")
        let env = ["COSIGN_PASSWORD": password]
        try Harness.sh("""
            cd '\(work)' && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem 2>/dev/null \
              && openssl pkey -in p256.pem -pubout -out p256.pub \
              && openssl genpkey -algorithm ed25519 -out ed.pem && openssl pkey -in ed.pem -pubout -out ed.pub \
              && openssl genpkey -algorithm ed25519 -out ed2.pem && openssl pkey -in ed2.pem -pubout -out ed2.pub \
              && HOME='\(work)' COSIGN_PASSWORD='\(password)' cosign generate-key-pair --output-key-prefix cosign >/dev/null 2>&1 \
              && HOME='\(work)' COSIGN_PASSWORD='\(password)' cosign generate-key-pair --output-key-prefix cosign2 >/dev/null 2>&1 \
              && HOME='\(work)' COSIGN_PASSWORD='\(password)' cosign import-key-pair --key ed2.pem --output-key-prefix cosign-ed -y >/dev/null 2>&1
            """)

        // swiftdock signs; cosign and swiftdock verify.
        for (key, pub) in [("p256.pem", "p256.pub"), ("ed.pem", "ed.pub"), ("cosign.key", "cosign.pub")] {
            let signed = try swiftdock.ok("sign", "--key", "\(work)/\(key)", image, environment: env)
            XCTAssertTrue(signed.stdout.contains(digest), signed.stdout)
            let checked = try cosignVerify("\(work)/\(pub)", image)
            XCTAssertEqual(checked.status, 0, "cosign verify --key \(pub): \(checked.stderr)")
            XCTAssertTrue(checked.stdout.contains(digest), checked.stdout)
            try swiftdock.ok("verify", "--key", "\(work)/\(pub)", image)
        }
        // Signing again with the same Ed25519 key adds nothing; every signature so far stays.
        let again = try swiftdock.ok("sign", "--key", "\(work)/ed.pem", image)
        XCTAssertTrue(again.stdout.contains("already carries"), again.stdout)

        // cosign signs (appending to swiftdock's signatures); swiftdock verifies. cosign skips a
        // key whose signature is already there — it finds swiftdock's cosign.key signature.
        for key in ["cosign.key", "cosign2.key", "cosign-ed.key"] {
            let signed = try cosign(["sign", "--key", "\(work)/\(key)", "--tlog-upload=false", "--allow-insecure-registry", "-y",
                                     "\(repository)@\(digest)"])
            XCTAssertEqual(signed.status, 0, "cosign sign --key \(key): \(signed.stderr)")
        }
        let byCosign = try swiftdock.ok("verify", "--key", "\(work)/cosign-ed.pub", image)
        XCTAssertTrue(byCosign.stdout.contains("1 of 5 signatures"), byCosign.stdout)
        let byCosignP256 = try swiftdock.ok("verify", "--key", "\(work)/cosign2.pub", image)
        XCTAssertTrue(byCosignP256.stdout.contains("1 of 5 signatures"), byCosignP256.stdout)
        XCTAssertEqual(try cosignVerify("\(work)/p256.pub", image).status, 0, "swiftdock's signature survives cosign's append")

        // A key that signed nothing here.
        try Harness.sh("cd '\(work)' && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -out other.pub")
        try expectVerifyFailure(swiftdock, "\(work)/other.pub", image, "none of the 5 signatures")

        // The tag moves to another image: nothing signed it.
        let moved = try pushImage(swiftdock, image, content: "not signed\n")
        XCTAssertNotEqual(moved, digest)
        try expectVerifyFailure(swiftdock, "\(work)/p256.pub", image, "no signatures for \(moved)")
        XCTAssertNotEqual(try cosignVerify("\(work)/p256.pub", image).status, 0)
        // The old digest still verifies.
        try swiftdock.ok("verify", "--key", "\(work)/p256.pub", "\(repository)@\(digest)")

        // Someone copies the old signatures to the new image's signature tag: the signatures
        // verify, but name the old image.
        let hex = { (d: String) in String(d.dropFirst("sha256:".count)) }
        try Harness.sh("""
            curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' 'http://\(repository.replacingOccurrences(of: "/", with: "/v2/", options: [], range: repository.range(of: "/")))/manifests/sha256-\(hex(digest)).sig' -o '\(work)/sig.json' \
              && curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @'\(work)/sig.json' \
                 'http://\(repository.replacingOccurrences(of: "/", with: "/v2/", options: [], range: repository.range(of: "/")))/manifests/sha256-\(hex(moved)).sig'
            """)
        try expectVerifyFailure(swiftdock, "\(work)/p256.pub", image, "is for \(digest), but the image is now \(moved)")
        XCTAssertNotEqual(try cosignVerify("\(work)/p256.pub", image).status, 0, "cosign refuses the copy too")
    }

    func expectVerifyFailure(_ swiftdock: Swiftdock, _ pub: String, _ image: String, _ expected: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try swiftdock("verify", "--key", pub, image)
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
    }

    /// Through a registry that wants a Bearer token (docker's token auth, after `swiftdock
    /// login`): sign, verify, and cosign reads the same credentials from DOCKER_CONFIG.
    func testSignAndVerifyThroughTokenAuth() throws {
        let env = ProcessInfo.processInfo.environment
        guard let token = env["SWIFTDOCK_TEST_REGISTRY_TOKEN"], let user = env["SWIFTDOCK_TEST_USER"],
              let secret = env["SWIFTDOCK_TEST_PASSWORD"] else {
            throw XCTSkip("the token registry is not running: start the fixtures with scripts/registries.sh")
        }
        let swiftdock = try Swiftdock()
        let auth = ["DOCKER_CONFIG": work + "/docker"]
        let login = try Harness.run("/bin/bash", ["-c", "printf '%s' '\(secret)' | '\(Harness.binary)' login -u '\(user)' --password-stdin \(token)"],
                                    environment: auth.merging(["SWIFTDOCK_HOME": swiftdock.home]) { $1 })
        XCTAssertEqual(login.status, 0, login.stderr)
        let image = "\(token)/signed-\(UUID().uuidString.prefix(8).lowercased())/app:v1"
        try Harness.write("FROM scratch\nCOPY a /a\n", to: work + "/ctx/Dockerfile")
        try Harness.write("token\n", to: work + "/ctx/a")
        let id = try swiftdock.ok("build", "-q", "-t", image, work + "/ctx").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pushed = try swiftdock.ok("push", "-q", image, environment: auth).stdout
        try Harness.sh("cd '\(work)' && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem 2>/dev/null && openssl pkey -in k.pem -pubout -out k.pub")
        try swiftdock.ok("sign", "--key", work + "/k.pem", image, environment: auth)
        try swiftdock.ok("verify", "--key", work + "/k.pub", image, environment: auth)
        // A local image ID stands for the digest it was pushed as; an ID never pushed is an error.
        let digest = try XCTUnwrap(pushed.split(separator: " ").first { $0.hasPrefix("sha256:") }, pushed)
        let byID = try swiftdock.ok("verify", "--key", work + "/k.pub", String(id.dropFirst(7).prefix(12)), environment: auth)
        XCTAssertTrue(byID.stderr.contains("was pushed as \(image)"), byID.stderr)
        XCTAssertTrue(byID.stdout.contains(String(digest)), byID.stdout)
        try Harness.write("never pushed\n", to: work + "/ctx/a")
        let local = try swiftdock.ok("build", "-q", work + "/ctx").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try swiftdock("sign", "--key", work + "/k.pem", local)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("never pushed"), refused.stderr)
        let byCosign = try Harness.run("/usr/bin/env", ["cosign", "verify", "--key", work + "/k.pub", "--insecure-ignore-tlog",
                                                         "--allow-insecure-registry", image],
                                       environment: auth.merging(["HOME": work]) { $1 })
        XCTAssertEqual(byCosign.status, 0, byCosign.stderr)
        // Without credentials the registry refuses, and verify says so in one line.
        let anonymous = try swiftdock("verify", "--key", work + "/k.pub", image, environment: ["DOCKER_CONFIG": work + "/none"])
        XCTAssertEqual(anonymous.status, 1, anonymous.stderr)
        XCTAssertEqual(anonymous.stderr.split(separator: "\n").count, 1, anonymous.stderr)
    }

    func testBadKeyFilesFailBeforeTheRegistry() throws {
        let swiftdock = try Swiftdock()
        try Harness.write("not a key\n", to: work + "/bad.key")
        try Harness.sh("cd '\(work)' && openssl genpkey -algorithm ed25519 -out ed.pem && HOME='\(work)' COSIGN_PASSWORD='\(password)' cosign import-key-pair --key ed.pem --output-key-prefix enc -y >/dev/null 2>&1")
        let cases: [([String], [String: String], String)] = [
            (["sign", "--key", work + "/bad.key"], [:], "not a PEM private key"),
            (["sign", "--key", work + "/missing.key"], [:], "cannot read key file"),
            (["sign", "--key", work], [:], "cannot read key file"),
            (["sign", "--key", "/dev/zero"], [:], "too big for a key file"),
            (["sign", "--key", work + "/enc.key"], ["COSIGN_PASSWORD": "wrong"], "wrong password"),
            (["verify", "--key", work + "/ed.pem"], [:], "verify needs the public key"),
        ]
        for (arguments, environment, expected) in cases {
            let result = try swiftdock.run(arguments + ["\(registry)/never/pushed:v1"], environment: environment)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        // No password and no terminal: says what to set.
        let unset = try Harness.run("/usr/bin/env", ["-u", "COSIGN_PASSWORD", Harness.binary, "sign", "--key", work + "/enc.key",
                                                      "\(registry)/never/pushed:v1"], environment: ["SWIFTDOCK_HOME": swiftdock.home])
        XCTAssertTrue(unset.stderr.contains("set COSIGN_PASSWORD"), unset.stderr)
    }
}
