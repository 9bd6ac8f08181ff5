import Foundation
import XCTest

/// `build --sbom`: an image holding a synthetic dpkg status file (overridden by a later layer),
/// an apk database and Python distributions gets an SPDX 2.3 document listing exactly the
/// installed packages, stored as an OCI 1.1 artifact whose subject is the image, accepted by
/// the real SPDX validator (`pyspdxtools` from spdx-tools, installed by scripts/setup.sh).
final class SBOMTests: XCTestCase {
    static let oldStatus = """
        Package: oldpkg
        Status: install ok installed
        Architecture: amd64
        Version: 0.1

        """
    static let status = """
        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Version: 2.36-9+deb12u4
        Description: GNU C Library
         Shared libraries.

        Package: removed
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0

        Package: broken
        no colon on this line
        Status: install ok installed
        Architecture: amd64
        Version: 1.0

        Package: tzdata
        Status: install ok installed
        Architecture: all
        Version: 2024a-0+deb12u1

        """
    static let expectedPurls: Set<String> = [
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64",
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all",
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64",
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/typing-extensions@4.9.0",
        "pkg:pypi/legacy-egg@1.0",
    ]

    func testSBOMListsInstalledPackagesAndValidates() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("sbom")
        try Harness.write(Self.oldStatus, to: context + "/status-old")
        try Harness.write(Self.status, to: context + "/status")
        try Harness.write("P:musl\nV:1.2.4-r2\nA:x86_64\n\nP:\nV:\n", to: context + "/apk-installed")
        try Harness.write("Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\n\nName: NotThis\n",
                          to: context + "/site/requests-2.31.0.dist-info/METADATA")
        try Harness.write("Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.9.0\n",
                          to: context + "/site/typing_extensions-4.9.0.dist-info/METADATA")
        try Harness.write("Metadata-Version: 1.0\nName: Legacy.Egg\nVersion: 1.0\n",
                          to: context + "/site/Legacy.Egg-1.0.egg-info/PKG-INFO")
        try Harness.write("Metadata-Version: 2.1\nName: noversion\n", to: context + "/site/noversion-1.dist-info/METADATA")
        try Harness.write("just text, no headers", to: context + "/site/garbage.dist-info/METADATA")
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            COPY status-old /var/lib/dpkg/status
            COPY site/ /usr/lib/python3/dist-packages/
            COPY status /var/lib/dpkg/status
            COPY apk-installed /lib/apk/db/installed

            """, to: context + "/Dockerfile")

        // Without the flag nothing changes: no SBOM line, no referrers.
        let plain = try swiftdock.ok("build", "-t", "sbom-test:plain", context)
        XCTAssertFalse(plain.stderr.contains("SBOM"), plain.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: swiftdock.home + "/referrers"))

        let built = try swiftdock.ok("build", "--sbom", "-t", "sbom-test:1", context)
        let manifestDigest = try XCTUnwrap(Self.digest(after: "writing manifest ", in: built.stderr), built.stderr)
        let artifactDigest = try XCTUnwrap(Self.digest(after: "writing SBOM ", in: built.stderr), built.stderr)

        // The store lists the artifact as a referrer of the image manifest.
        let referrers = try Self.json(swiftdock.home + "/referrers/" + manifestDigest.dropFirst(7))
        let entries = try XCTUnwrap(referrers["manifests"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries.first?["digest"] as? String, artifactDigest)
        XCTAssertEqual(entries.first?["artifactType"] as? String, "application/spdx+json")

        let artifact = try Self.json(Self.blob(artifactDigest, in: swiftdock.home))
        XCTAssertEqual(artifact["artifactType"] as? String, "application/spdx+json")
        XCTAssertEqual((artifact["subject"] as? [String: Any])?["digest"] as? String, manifestDigest)
        XCTAssertEqual((artifact["config"] as? [String: Any])?["mediaType"] as? String, "application/vnd.oci.empty.v1+json")
        let layers = try XCTUnwrap(artifact["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 1)
        XCTAssertEqual(layers.first?["mediaType"] as? String, "application/spdx+json")
        let sbomBlob = Self.blob(try XCTUnwrap(layers.first?["digest"] as? String), in: swiftdock.home)
        // pyspdxtools picks its parser by the file name's extension.
        let sbomPath = context + "/sbom.spdx.json"
        try FileManager.default.copyItem(atPath: sbomBlob, toPath: sbomPath)

        // The document lists exactly the installed packages of the final file system.
        let document = try Self.json(sbomPath)
        XCTAssertEqual(document["spdxVersion"] as? String, "SPDX-2.3")
        let packages = try XCTUnwrap(document["packages"] as? [[String: Any]])
        let purls = packages.flatMap { ($0["externalRefs"] as? [[String: Any]] ?? []).compactMap { $0["referenceLocator"] as? String } }
        XCTAssertEqual(Set(purls), Self.expectedPurls)
        XCTAssertEqual(purls.count, Self.expectedPurls.count)
        XCTAssertEqual(packages.first?["versionInfo"] as? String, manifestDigest)

        // The real validator accepts it — and rejects a damaged copy (so this check can fail).
        let valid = try Self.validate(sbomPath)
        XCTAssertEqual(valid.status, 0, "pyspdxtools rejected the SBOM:\n\(valid.stdout)\n\(valid.stderr)")
        var damaged = document
        damaged["spdxVersion"] = "SPDX-9.9"
        let damagedPath = context + "/damaged.spdx.json"
        try JSONSerialization.data(withJSONObject: damaged).write(to: URL(fileURLWithPath: damagedPath))
        XCTAssertNotEqual(try Self.validate(damagedPath).status, 0, "pyspdxtools accepted a document with a wrong spdxVersion")

        // The SBOM lives as long as its image: kept by prune, removed with the image.
        try swiftdock.ok("system", "prune", "-f")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sbomBlob))
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.blob(artifactDigest, in: swiftdock.home)))
        // With the step cache the two builds are one image (every step CACHED), so both of its
        // names go before the image — and its SBOM — does.
        try swiftdock.ok("rmi", "sbom-test:1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sbomBlob), "the SBOM went while sbom-test:plain still names its image")
        try swiftdock.ok("rmi", "sbom-test:plain")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sbomBlob))
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.blob(artifactDigest, in: swiftdock.home)))
    }

    static func digest(after prefix: String, in text: String) -> String? {
        guard let range = text.range(of: prefix + "sha256:") else { return nil }
        return String(text[range.upperBound...].prefix(64)).isEmpty ? nil : "sha256:" + text[range.upperBound...].prefix(64)
    }

    static func blob(_ digest: String, in home: String) -> String {
        home + "/blobs/sha256/" + digest.dropFirst("sha256:".count)
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], path)
    }

    /// Runs spdx-tools' validator on `path` (scripts/setup.sh installs it into /usr/local/bin).
    static func validate(_ path: String) throws -> CommandResult {
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/local/bin"
        return try Harness.run("/usr/bin/env", ["pyspdxtools", "-i", path], environment: ["PATH": "/usr/local/bin:" + searchPath])
    }
}
