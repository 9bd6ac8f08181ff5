import Foundation
import ProcessWaiting
import XCTest

/// A real `pip install` inside RUN from a private package index that wants a credential
/// (Fixtures/private-index/server.py on loopback, reached with `--network=host`), the token given
/// with `--secret` and read from the secret in the same RUN, as the README's Artifact Registry
/// recipe does. The base is the Python stand-in's root file system (Fixtures/base-python, made
/// by the main job; cached by digest).
final class PrivateIndexTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context = ""
    var server: Process?
    var serverExit: ProcessExit?
    var port = 0
    let token = "ya29.swiftdock-private-index-\(UUID().uuidString)"

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        context = try Harness.makeTemporaryDirectory("pip")
        let fixture = Harness.packageRoot.appendingPathComponent("Fixtures/base-python").path
        if !FileManager.default.isExecutableFile(atPath: fixture + "/rootfs/usr/bin/python3") {
            try Harness.sh("bash '\(fixture)/make-rootfs.sh' >/dev/null")
        }
        // Debian's Python and pip alone: the rootfs without the papermill step of its Dockerfile.
        try Harness.write("FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8\n",
                          to: context + "/base.Dockerfile")
        try swiftdock.ok("build", "-q", "--compression-level", "0", "-t", "swiftdock.local/python-pip", "-f", context + "/base.Dockerfile", fixture)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Harness.packageRoot.appendingPathComponent("Fixtures/private-index/server.py").path]
        process.environment = ["PRIVATE_INDEX_TOKEN": token, "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        serverExit = try ProcessExit.start(process)
        server = process
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(port, 0, "the index printed its port")

        try Harness.write("""
        FROM swiftdock.local/python-pip
        ARG INDEX
        RUN --network=host --mount=type=secret,id=index-token,env=INDEX_TOKEN \\
            pip install --no-input --no-cache-dir --no-deps --break-system-packages --disable-pip-version-check \\
              --index-url "http://oauth2accesstoken:${INDEX_TOKEN}@${INDEX}/simple/" swiftdock-private-probe \\
         && python3 -c 'import swiftdock_private_probe as p; print(p.MARKER)' > /probe.txt
        """, to: context + "/Dockerfile")
    }

    override func tearDownWithError() throws {
        if let server, server.isRunning { server.terminate(); serverExit?.wait() }
        try? FileManager.default.removeItem(atPath: context)
        try? FileManager.default.removeItem(atPath: swiftdock.home)
    }

    func testPipInstallsFromThePrivateIndexOnlyWithTheSecret() throws {
        let arguments = ["build", "-t", "pip-private", "--build-arg", "INDEX=127.0.0.1:\(port)", context]
        // Without the secret first: a success would be in the step cache, which ignores secrets.
        let refused = try swiftdock.run(arguments)
        XCTAssertEqual(refused.status, 1, "pip got in without the token: \(refused.stderr)")
        XCTAssertTrue(refused.stderr.contains("did not complete successfully"), refused.stderr)

        let installed = try swiftdock.run(Array(arguments.dropLast()) + ["--secret", "id=index-token,env=INDEX_TOKEN", context],
                                          environment: ["INDEX_TOKEN": token])
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertEqual(try swiftdock.topLayerFile("pip-private", "probe.txt"), "installed from the private index\n")
        // The store holds the 470 MB base twice over (layer, unpacked root): scanned, not saved again.
        try swiftdock.assertNothingHolds([token], output: installed.stdout + installed.stderr + refused.stderr, image: "pip-private",
                                         saving: false)
    }
}
