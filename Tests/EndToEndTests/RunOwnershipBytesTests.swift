import Foundation
import XCTest

/// Copy-and-compare RUN as an unprivileged user with subordinate ids: the owners the copy
/// could not set (files a RUN gave to another image user, on disk a subordinate id) are set
/// inside the sandbox's user namespace, by path — passed as the name's bytes, so a file whose
/// name is not UTF-8 keeps its owner (42:43) through the next RUN.
final class RunOwnershipBytesTests: XCTestCase {
    func testNonUTF8NameKeepsItsOwnerThroughACopyIsolatedRun() throws {
        guard getuid() == 0 else { throw XCTSkip("runs the unprivileged case by switching from root") }
        guard let user = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_SUBID_USER"] else {
            throw XCTSkip("SWIFTDOCK_TEST_SUBID_USER is not set (scripts/test.sh sets it up)")
        }
        _ = try Swiftdock()
        let ids = try Harness.run("/bin/sh", ["-c", "id -u \(user) && id -g \(user)"]).stdout.split(separator: "\n").map(String.init)
        guard ids.count == 2 else { throw XCTSkip("no user \(user)") }
        let home = try Harness.makeTemporaryDirectory("owner-bytes-home")
        let context = try Harness.makeTemporaryDirectory("owner-bytes")
        try Harness.sh("""
            cp -a '\(Harness.packageRoot.path)/Fixtures/base/rootfs' '\(context)/rootfs' && \
            chown -R \(ids[0]):\(ids[1]) '\(home)' '\(context)' && chmod 755 '\(home)' '\(context)'
            """)
        try Harness.write("""
            FROM scratch
            COPY rootfs/ /
            RUN mkdir /data && echo latin1 > "/data/$(printf 'caf\\351')" && echo plain > /data/plain && chown 42:43 /data/*
            RUN stat -c %u:%g%n /data/* > /owners.txt

            """, to: context + "/Dockerfile")
        let binary = Harness.binary
        try Harness.sh("d='\(binary)'; chmod o+rx \"$d\"; while [ \"$d\" != / ]; do d=$(dirname \"$d\"); chmod o+x \"$d\" 2>/dev/null || true; done")
        let prefix = ["--reuid=\(ids[0])", "--regid=\(ids[1])", "--clear-groups", "env", "HOME=\(home)", "TMPDIR=\(home)",
                      "SWIFTDOCK_HOME=\(home)/store", "SWIFTDOCK_RUN_ISOLATION=copy", binary]
        let build = try Harness.run("/usr/bin/setpriv", prefix + ["build", "-t", "owner-bytes", context])
        XCTAssertEqual(build.status, 0, build.stderr)
        let save = try Harness.run("/usr/bin/setpriv", prefix + ["save", "owner-bytes", "--format", "oci", "-o", home + "/oci"])
        XCTAssertEqual(save.status, 0, save.stderr)

        // RUN saw both files as 42:43 (the sandbox applied the owner to the exact name).
        let layers = try Harness.sh("""
            cd '\(home)/oci' && m=$(jq -r '.manifests[0].digest' index.json | cut -d: -f2) && \
            jq -r '.layers[].digest' blobs/sha256/$m | cut -d: -f2
            """).split(separator: "\n").map { "\(home)/oci/blobs/sha256/\($0)" }
        guard layers.count == 3 else { return XCTFail("expected 3 layers, got \(layers)") }
        let owners = try Harness.sh("tar -xzOf '\(layers[2])' owners.txt | od -c")
        XCTAssertEqual(owners, try Harness.sh("printf '42:43/data/caf\\351\\n42:43/data/plain\\n' | od -c"))
        // The committed image: the second RUN's layer holds only what it wrote (no owner
        // change recorded for /data), and the first RUN's has the name's bytes owned 42:43.
        let runLayer = try Harness.sh("LC_ALL=C tar -tz --quoting-style=escape -f '\(layers[2])'")
        XCTAssertEqual(runLayer, "owners.txt\n")
        let copyLayer = try Harness.sh("LC_ALL=C tar -tvz --numeric-owner --quoting-style=escape -f '\(layers[1])' | awk '{print $2, $6}'")
        XCTAssertEqual(copyLayer, "0/0 data/\n42/43 data/caf\\351\n42/43 data/plain\n")
    }
}
