import Foundation
import XCTest

/// Builds against a base pulled lazily from a real registry (layers left there) give the same
/// images, to the byte, as against the same base stored locally, with BuildKit's results for
/// COPY destinations, owners, modes and symlinks; the base's header index makes a second build
/// read no layer bytes. Runs against the loopback registry of `scripts/registries.sh`.
final class LazyBaseTests: XCTestCase {
    static let epoch = ["SOURCE_DATE_EPOCH": "1700000000"]

    /// One Dockerfile (after `FROM <base>`; `BASE` stands for the base reference) and what
    /// its last layer must hold, as `tar -tv` shows it: `type+mode uid/gid path`.
    struct Case {
        var name: String
        var dockerfile: String
        var lastLayer: [String]
        var workingDir: String? = nil
        /// Needs only the header index (no layer content): must build with the registry gone.
        var indexOnly = true
    }

    static let cases: [Case] = [
        Case(name: "file onto an existing directory", dockerfile: "COPY a.txt /tmp", lastLayer: ["-rw-r--r-- 0/0 tmp/a.txt"]),
        Case(name: "WORKDIR then COPY into it", dockerfile: "WORKDIR /srv\nCOPY a.txt /srv", lastLayer: ["-rw-r--r-- 0/0 srv/a.txt"],
             workingDir: "/srv"),
        Case(name: "chown of a new directory", dockerfile: "COPY --chown=42:43 dir /tmp/dir",
             lastLayer: ["drwxr-xr-x 42/43 tmp/dir/", "-rw-r--r-- 42/43 tmp/dir/x.txt"]),
        Case(name: "empty directory", dockerfile: "COPY empty-dir /e1", lastLayer: ["drwxr-xr-x 0/0 e1/"]),
        Case(name: "dangling symlink destination", dockerfile: "COPY a.txt /dangling",
             lastLayer: ["drwxr-xr-x 0/0 made/", "drwxr-xr-x 0/0 made/by/", "-rw-r--r-- 0/0 made/by/copy"]),
        Case(name: "WORKDIR through a symlink", dockerfile: "WORKDIR /wd", lastLayer: ["drwxr-xr-x 0/0 var/wd/"], workingDir: "/wd"),
        Case(name: "chown by name takes the primary group", dockerfile: "COPY --chown=svc a.txt /x",
             lastLayer: ["-rw-r--r-- 2001/2002 x"], indexOnly: false),
        Case(name: "COPY --from a stage: a directory's contents into a new 0755 directory",
             dockerfile: "COPY --from=builder --chown=5:6 /out/sub /o2",
             lastLayer: ["drwxr-xr-x 5/6 o2/", "-rw-r----- 5/6 o2/g.txt"], indexOnly: false),
        Case(name: "COPY --from a stage: an absolute symlink resolves in the stage's root",
             dockerfile: "COPY --from=builder /data /data", lastLayer: ["-rw------- 3/3 data-real/f.txt"], indexOnly: false),
    ]

    private func env(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw XCTSkip("\(name) is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        return value
    }

    /// The base's single layer, written by Python's tarfile so every owner, mode and link is
    /// exactly as stated.
    static func makeBaseContext() throws -> String {
        let context = try Harness.makeTemporaryDirectory("lazy-base")
        try Harness.sh("""
            cd '\(context)' && python3 -c "
            import io, tarfile
            def add(t, name, kind=tarfile.REGTYPE, mode=0o644, owner=0, data=b'', link=''):
                i = tarfile.TarInfo(name); i.type = kind; i.mode = mode; i.uid = i.gid = owner; i.mtime = 1600000000
                i.linkname = link; i.size = len(data) if kind == tarfile.REGTYPE else 0
                t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
            D, L = tarfile.DIRTYPE, tarfile.SYMTYPE
            with tarfile.open('rootfs.tar', 'w', format=tarfile.PAX_FORMAT) as t:
                add(t, 'etc', D, 0o755)
                add(t, 'etc/passwd', data=b'root:x:0:0:root:/root:/bin/sh\\nsvc:x:2001:2002::/home/svc:/bin/sh\\n')
                add(t, 'etc/group', data=b'root:x:0:\\nsvcgroup:x:2002:\\n')
                add(t, 'tmp', D, 0o1777)
                add(t, 'srv', D, 0o750, owner=7)
                add(t, 'var', D, 0o755)
                add(t, 'wd', L, 0o777, link='/var/wd')
                add(t, 'dangling', L, 0o777, link='/made/by/copy')
                add(t, 'data-real', D, 0o700, owner=3)
                add(t, 'data-real/f.txt', mode=0o600, owner=3, data=b'f')
                add(t, 'data', L, 0o777, link='/data-real')
                add(t, 'out', D, 0o755)
                add(t, 'out/sub', D, 0o750)
                add(t, 'out/sub/g.txt', mode=0o640, data=b'g')
            "
            printf 'FROM scratch\\nADD rootfs.tar /\\n' > Dockerfile
            """)
        return context
    }

    /// A context with the files the cases copy.
    static func makeCaseContext(_ dockerfile: String, base: String) throws -> String {
        let context = try Harness.makeTemporaryDirectory("lazy-case")
        try Harness.sh("cd '\(context)' && printf a > a.txt && mkdir -p dir empty-dir && printf x > dir/x.txt")
        try Harness.write("FROM \(base) AS builder\nFROM \(base)\n\(dockerfile)\n", to: context + "/Dockerfile")
        return context
    }

    /// A JSON blob of the store.
    static func blob(_ digest: String, in swiftdock: Swiftdock) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: swiftdock.home + "/blobs/sha256/" + digest.dropFirst(7)))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The manifest digest `tag` names in the store's index.json (read as the OCI layout it is).
    static func manifestDigest(_ tag: String, in swiftdock: Swiftdock) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: swiftdock.home + "/index.json"))
        let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let manifests = (index["manifests"] as? [[String: Any]]) ?? []
        let entry = manifests.first { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == tag }
        return try XCTUnwrap(entry?["digest"] as? String, "\(tag) in \(swiftdock.home)")
    }

    static func layerDigests(_ tag: String, in swiftdock: Swiftdock) throws -> [String] {
        let manifest = try blob(try manifestDigest(tag, in: swiftdock), in: swiftdock)
        return ((manifest["layers"] as? [[String: Any]]) ?? []).compactMap { $0["digest"] as? String }
    }

    static func workingDir(_ tag: String, in swiftdock: Swiftdock) throws -> String? {
        let manifest = try blob(try manifestDigest(tag, in: swiftdock), in: swiftdock)
        let config = try blob(try XCTUnwrap((manifest["config"] as? [String: Any])?["digest"] as? String), in: swiftdock)
        return (config["config"] as? [String: Any])?["WorkingDir"] as? String
    }

    /// `tar -tv` of the image's last layer, as `type+mode uid/gid path` lines.
    static func lastLayer(of tag: String, in swiftdock: Swiftdock) throws -> [String] {
        let last = try XCTUnwrap(try layerDigests(tag, in: swiftdock).last)
        let listing = try Harness.sh("tar --numeric-owner -tvzf '\(swiftdock.home)/blobs/sha256/\(last.dropFirst(7))'")
        return listing.split(separator: "\n").map { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            return "\(f[0]) \(f[1]) \(f[5...].joined(separator: " "))"
        }
    }

    /// The base built in one store and pushed to `registry/repository/<random>:v1`, and a
    /// second store that pulled it lazily; with the base's layer digest.
    private func pushedBase(registry: String, repository: String) throws -> (local: Swiftdock, lazy: Swiftdock, base: String, layer: String) {
        let local = try Swiftdock()
        let base = "\(registry)/\(repository)/\(UUID().uuidString.prefix(8).lowercased()):v1"
        try local.ok("build", "-q", "-t", base, try Self.makeBaseContext(), environment: Self.epoch)
        try local.ok("push", "-q", base)
        let lazy = try Swiftdock()
        try lazy.ok("pull", "-q", base)
        return (local, lazy, base, try XCTUnwrap(try Self.layerDigests(base, in: local).first))
    }

    func testLazyAndLocalBasesBuildIdenticalImagesWithBuildKitsResults() throws {
        let registry = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let (local, lazy, base, baseLayer) = try pushedBase(registry: registry, repository: "lazy-base")
        let baseLayerInLazyStore = lazy.home + "/blobs/sha256/" + baseLayer.dropFirst(7)
        let sources = lazy.home + "/remote-sources.json"
        let liveSources = try String(contentsOfFile: sources, encoding: .utf8)

        for (index, c) in Self.cases.enumerated() {
            // After the first build indexed the base, index-only builds must not need the
            // registry at all: its address is replaced by one nothing answers on.
            let registryGone = index > 0 && c.indexOnly
            try (registryGone ? liveSources.replacingOccurrences(of: registry, with: "127.0.0.1:9") : liveSources)
                .write(toFile: sources, atomically: true, encoding: .utf8)
            let context = try Self.makeCaseContext(c.dockerfile, base: base)
            let tag = "swiftdock.local/lazy-case:\(index)"
            try local.ok("build", "-q", "-t", tag, context, environment: Self.epoch)
            try lazy.ok("build", "-q", "-t", tag, context, environment: Self.epoch)
            XCTAssertEqual(try Self.manifestDigest(tag, in: local), try Self.manifestDigest(tag, in: lazy),
                           "\(c.name): the lazy base must build the same image")
            XCTAssertEqual(try Self.lastLayer(of: tag, in: local), c.lastLayer, c.name)
            if let workingDir = c.workingDir {
                XCTAssertEqual(try Self.workingDir(tag, in: lazy), workingDir, c.name)
            }
            if c.indexOnly {
                XCTAssertFalse(FileManager.default.fileExists(atPath: baseLayerInLazyStore), "\(c.name): the base layer stays remote")
            }
        }
        // The index was read from the registry's stream: no scratch copy of the layer is left.
        XCTAssertEqual(try Harness.sh("cd '\(lazy.home)' && find tmp -type f | wc -l").trimmingCharacters(in: .whitespacesAndNewlines), "0")
    }

    /// A stage that RUNs on a lazily pulled base needs the layer's content: the one streamed
    /// read that builds the header index also stores the blob (verified), and the image is
    /// the one a locally stored base gives.
    func testRunOnALazyBaseStoresTheLayerFromTheIndexingRead() throws {
        let registry = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let local = try Swiftdock()
        try local.buildBase(environment: Self.epoch)
        let base = "\(registry)/lazy-run/\(UUID().uuidString.prefix(8).lowercased()):v1"
        try local.ok("tag", "swiftdock.local/busybox-base", base)
        try local.ok("push", "-q", base)
        let lazy = try Swiftdock()
        try lazy.ok("pull", "-q", base)
        let layers = try Self.layerDigests(base, in: local)
        let context = try Harness.makeTemporaryDirectory("lazy-run")
        try Harness.write("FROM \(base)\nCOPY a.txt /tmp/\nRUN ls /tmp /bin/busybox > /seen.txt\n", to: context + "/Dockerfile")
        try Harness.write("a", to: context + "/a.txt")
        for store in [local, lazy] {
            try store.ok("build", "-q", "-t", "swiftdock.local/lazy-run:1", context, environment: Self.epoch)
        }
        XCTAssertEqual(try Self.manifestDigest("swiftdock.local/lazy-run:1", in: lazy), try Self.manifestDigest("swiftdock.local/lazy-run:1", in: local))
        for layer in layers {
            XCTAssertEqual(try Harness.sh("sha256sum < '\(lazy.home)/blobs/sha256/\(layer.dropFirst(7))' | cut -d' ' -f1")
                .trimmingCharacters(in: .whitespacesAndNewlines), String(layer.dropFirst(7)), "stored and verified")
        }
        XCTAssertEqual(try Harness.sh("cd '\(lazy.home)' && find tmp -type f | wc -l").trimmingCharacters(in: .whitespacesAndNewlines), "0")
    }

    /// The base layer's header index is read from the registry in one stream; when the registry
    /// serves bytes that do not match the digest (the fixtures' proxy flips one byte of every
    /// blob), the build fails with one line naming the image and the layer, caches no index
    /// and stores nothing; from an honest registry the same build then works, the layer still
    /// remote.
    func testATamperedRemoteLayerFailsTheStreamedIndexCleanly() throws {
        let registry = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let corrupt = try env("SWIFTDOCK_TEST_REGISTRY_CORRUPT")
        let (local, lazy, base, layer) = try pushedBase(registry: registry, repository: "lazy-tampered")
        let name = base.dropFirst(registry.count + 1).dropLast(3)  // repository/random, no tag
        let sources = lazy.home + "/remote-sources.json"
        let liveSources = try String(contentsOfFile: sources, encoding: .utf8)
        // The layer is now to be fetched through the proxy that corrupts it.
        try liveSources.replacingOccurrences(of: registry, with: corrupt).write(toFile: sources, atomically: true, encoding: .utf8)
        let context = try Self.makeCaseContext("COPY a.txt /tmp", base: base)
        let before = try lazy.fingerprint()
        let failed = try lazy("build", "-q", context)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        let lines = failed.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        XCTAssertEqual(lines.count, 1, failed.stderr)
        let line = String(lines.first ?? "")
        XCTAssertTrue(line.contains(name) && line.contains(layer), line)
        XCTAssertTrue(line.contains("corrupt") && line.contains("hashes to"), line)
        XCTAssertEqual(try lazy.fingerprint(), before, "the store is left as it was")
        XCTAssertEqual(try Harness.sh("cd '\(lazy.home)' && find cache/layer-index tmp -type f 2>/dev/null | wc -l")
            .trimmingCharacters(in: .whitespacesAndNewlines), "0", "no index entry, no scratch file")

        try liveSources.write(toFile: sources, atomically: true, encoding: .utf8)
        try lazy.ok("build", "-q", "-t", "swiftdock.local/lazy-tampered:ok", context, environment: Self.epoch)
        try local.ok("build", "-q", "-t", "swiftdock.local/lazy-tampered:ok", context, environment: Self.epoch)
        XCTAssertEqual(try Self.manifestDigest("swiftdock.local/lazy-tampered:ok", in: lazy),
                       try Self.manifestDigest("swiftdock.local/lazy-tampered:ok", in: local))
        XCTAssertFalse(FileManager.default.fileExists(atPath: lazy.home + "/blobs/sha256/" + layer.dropFirst(7)), "the layer stays remote")
    }
}
