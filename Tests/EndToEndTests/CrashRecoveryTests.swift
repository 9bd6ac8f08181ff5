import Foundation
import XCTest

/// `kill -9` at random moments of build and push: the next command uses the store without
/// error, and once it has finished the store holds no leftovers — every tag's manifest, config
/// and layers present with the right digests (skopeo reads them), every blob reachable from
/// a tag, nothing left in `tmp/` or `journals/`.
final class CrashRecoveryTests: XCTestCase {
    func testKillNineLoopOverBuildAndPushLeavesAConsistentStore() throws {
        guard let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh")
        }
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("kill9")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY . /data/\n", to: context + "/Dockerfile")
        try Harness.sh("for i in $(seq 1 12); do head -c 2000000 /dev/urandom > '\(context)/f$i.bin'; done")
        try swiftdock.ok("build", "-q", "-t", "kill9:seed", context)
        var generator = SystemRandomNumberGenerator()
        let iterations = 8
        var killed = 0
        for iteration in 0..<iterations {
            // New content each round, so every build writes new layers.
            try Harness.sh("head -c 3000000 /dev/urandom > '\(context)/round-\(iteration).bin'")
            let command = iteration % 2 == 0
                ? "build -q -t kill9:\(iteration) '\(context)'"
                : "push kill9:seed \(registry)/kill9:\(iteration)"
            // The first two rounds kill early (no build or push of this size ends within 0.15 s),
            // so at least one command is killed mid-way whatever the random draws; the rest are
            // spread over the whole command.
            let delay = Double.random(in: iteration < 2 ? 0.02...0.15 : 0.05...1.5, using: &generator)
            let outcome = try Harness.sh("""
            SWIFTDOCK_HOME='\(swiftdock.home)' '\(Harness.binary)' \(command) >/dev/null 2>&1 & pid=$!
            sleep \(String(format: "%.2f", delay)); kill -9 $pid 2>/dev/null; wait $pid; echo "status=$?"
            """)
            if outcome.contains("status=137") { killed += 1 }
            // The next command works, and leaves a healed store behind.
            try swiftdock.ok("images")
            try assertConsistent(swiftdock, round: iteration)
        }
        XCTAssertGreaterThan(killed, 0, "no command was ever killed while it ran")
        try swiftdock.ok("build", "-q", "-t", "kill9:after", context)
        try swiftdock.ok("push", "kill9:after", "\(registry)/kill9:after")
    }

    private func assertConsistent(_ swiftdock: Swiftdock, round: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let home = swiftdock.home
        // Every blob whole; every blob reachable from index.json; everything index.json names present.
        let report = try Harness.sh("""
        cd '\(home)' && python3 - <<'PY'
        import hashlib, json, os
        blobs = set(os.listdir('blobs/sha256'))
        for name in blobs:
            with open('blobs/sha256/' + name, 'rb') as f:
                if hashlib.sha256(f.read()).hexdigest() != name: print('torn', name)
        reachable = set()
        def visit(digest, document=True):
            hexd = digest.split(':', 1)[1]
            if hexd in reachable: return
            reachable.add(hexd)
            if hexd not in blobs: print('missing', digest); return
            if not document: return
            doc = json.load(open('blobs/sha256/' + hexd))
            for child in doc.get('manifests', []): visit(child['digest'])
            if 'config' in doc: visit(doc['config']['digest'], False)
            for layer in doc.get('layers', []): visit(layer['digest'], False)
        for entry in json.load(open('index.json'))['manifests']:
            visit(entry['digest'])
            print('tag', (entry.get('annotations') or {}).get('org.opencontainers.image.ref.name', ''))
        for name in sorted(blobs - reachable): print('unreachable', name)
        for folder in ('tmp', 'journals'):
            for name in sorted(os.listdir(folder) if os.path.isdir(folder) else []): print('leftover', folder + '/' + name)
        PY
        """, file: file, line: line)
        let lines = report.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { !$0.hasPrefix("tag ") }, [], "round \(round)", file: file, line: line)
        for entry in lines where entry.hasPrefix("tag docker.io/library/kill9:") {
            try Harness.sh("skopeo inspect oci:'\(home)':\(entry.dropFirst(4)) >/dev/null", file: file, line: line)
        }
    }
}
