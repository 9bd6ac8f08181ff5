import Foundation
import ProcessWaiting
import XCTest

/// HTTPS to a registry that is not named as loopback: trusted only through `SSL_CERT_FILE`
/// (or `SSL_CERT_DIR`) holding a private CA, as Go tools and OpenSSL honour them.
final class TLSRegistryTests: XCTestCase {
    var registry: Process?
    var registryExit: ProcessExit?

    override func tearDown() {
        registry?.terminate()
        registryExit?.wait()
    }

    func testPrivateCAFromSSLCertFileAndDir() throws {
        // The machine's own host name must resolve to loopback, so traffic stays on this machine.
        let host = try Harness.sh("hostname").trimmingCharacters(in: .whitespacesAndNewlines)
        let resolved = try Harness.run("/bin/sh", ["-c", "getent hosts '\(host)' | awk '{print $1}' | head -n 1"]).stdout
        guard !host.isEmpty, !host.contains("."), resolved.hasPrefix("127.") else {
            throw XCTSkip("host name \(host) does not resolve to a loopback address here")
        }
        let dir = try Harness.makeTemporaryDirectory("tls")
        try Harness.sh("""
        cd '\(dir)' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=swiftdock test CA' -keyout ca.key -out ca.pem 2>/dev/null \
          && openssl req -newkey rsa:2048 -nodes -subj '/CN=\(host)' -keyout server.key -out server.csr 2>/dev/null \
          && printf 'subjectAltName=DNS:\(host)\\n' > san.ext \
          && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null \
          && mkdir -p certs && cp ca.pem certs/ca.crt
        """)
        let port = try Harness.sh("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try Harness.write("""
        version: 0.1
        log: {level: error}
        storage: {filesystem: {rootdirectory: \(dir)/data}}
        http: {addr: 127.0.0.1:\(port), tls: {certificate: \(dir)/server.pem, key: \(dir)/server.key}}
        """, to: dir + "/config.yml")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", dir + "/config.yml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        registryExit = try ProcessExit.start(process)
        registry = process
        try Harness.sh("for i in $(seq 1 100); do curl -fs --cacert '\(dir)/ca.pem' https://\(host):\(port)/v2/ >/dev/null && exit 0; sleep 0.05; done; exit 1")

        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let remote = "\(host):\(port)/tls/busybox:1"
        try swiftdock.ok("tag", "swiftdock.local/busybox-base", remote)
        // Not trusted without the CA: one line naming the registry, no retries forever.
        let untrusted = try swiftdock.run(["push", remote], environment: ["SSL_CERT_FILE": "", "SSL_CERT_DIR": ""])
        XCTAssertEqual(untrusted.status, 1, untrusted.stderr)
        XCTAssertEqual(untrusted.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, untrusted.stderr)
        XCTAssertTrue(untrusted.stderr.contains("\(host):\(port)"), untrusted.stderr)
        // Trusted through SSL_CERT_FILE, then through SSL_CERT_DIR.
        try swiftdock.ok("push", remote, environment: ["SSL_CERT_FILE": dir + "/ca.pem"])
        let other = try Swiftdock()
        try other.ok("pull", remote, environment: ["SSL_CERT_DIR": dir + "/certs"])
        try Harness.sh("skopeo inspect --cert-dir '\(dir)/certs' docker://\(remote) >/dev/null")
    }
}
