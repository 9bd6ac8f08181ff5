import Foundation
import XCTest

/// Dockerfile features end to end: the config docker would write, multi-stage builds,
/// COPY/ADD options, read back through skopeo and tar.
final class BuildFeatureTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("features")
    }

    private func config(_ image: String) throws -> [String: Any] {
        let text = try swiftdock.ok("inspect", "--format", "{{json .ImageConfig}}", image).stdout
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    /// `path mode uid/gid [-> target]` of every entry of the image's top layer.
    private func topLayer(_ image: String) throws -> [String] {
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", image).stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        let digest = ((manifest["layers"] as! [[String: Any]]).last!["digest"] as! String).dropFirst(7)
        return try Harness.sh("tar --numeric-owner -tvzf '\(swiftdock.home)/blobs/sha256/\(digest)'")
            .split(separator: "\n").map { line in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                let arrow = f.firstIndex(of: "->") ?? f.firstIndex(of: "link")
                let path = arrow.map { f[$0 - 1] } ?? f.last!
                return "\(path) \(f[0]) \(f[1])" + (arrow == nil ? "" : " -> \(f.last!)")
            }
    }

    func testMetadataLandsInTheConfigAsDockerWritesIt() throws {
        try Harness.write("""
        # syntax=docker/dockerfile:1
        ARG BASE=gcr.io/deeplearning-platform-release/base-cpu:latest
        FROM ${BASE} AS app
        ARG VERSION=1.0
        ENV APP_HOME=/srv/app \\
            GREETING="hello world"
        LABEL org.opencontainers.image.version=$VERSION maintainer="data team"
        WORKDIR $APP_HOME
        EXPOSE 8888 9000-9001/udp
        VOLUME ["/data"]
        USER jupyter
        STOPSIGNAL SIGINT
        HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O- http://localhost:8888/ || exit 1
        SHELL ["/bin/sh", "-ec"]
        ONBUILD COPY . /srv/app
        ENTRYPOINT ["/bin/sh", "-c"]
        CMD ["echo ${GREETING}"]
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "--build-arg", "VERSION=2.5", "-t", "meta", context)
        let c = try config("meta")
        let cfg = c["config"] as! [String: Any]
        let env = cfg["Env"] as! [String]
        XCTAssertTrue(env.contains("APP_HOME=/srv/app"), "\(env)")
        XCTAssertTrue(env.contains("GREETING=hello world"), "\(env)")
        XCTAssertFalse(env.contains { $0.hasPrefix("VERSION=") }, "ARGs stay out of Env")
        XCTAssertEqual((cfg["Labels"] as! [String: String])["org.opencontainers.image.version"], "2.5")
        XCTAssertEqual((cfg["Labels"] as! [String: String])["maintainer"], "data team")
        XCTAssertEqual(cfg["WorkingDir"] as? String, "/srv/app")
        XCTAssertEqual(Set((cfg["ExposedPorts"] as! [String: Any]).keys), ["8888/tcp", "9000/udp", "9001/udp"])
        XCTAssertEqual(Array((cfg["Volumes"] as! [String: Any]).keys), ["/data"])
        XCTAssertEqual(cfg["User"] as? String, "jupyter")
        XCTAssertEqual(cfg["StopSignal"] as? String, "SIGINT")
        let health = cfg["Healthcheck"] as! [String: Any]
        XCTAssertEqual(health["Test"] as? [String], ["CMD-SHELL", "wget -q -O- http://localhost:8888/ || exit 1"])
        XCTAssertEqual(health["Interval"] as? Int, 30_000_000_000)
        XCTAssertEqual(health["Retries"] as? Int, 3)
        XCTAssertEqual(cfg["Shell"] as? [String], ["/bin/sh", "-ec"])
        XCTAssertEqual(cfg["OnBuild"] as? [String], ["COPY . /srv/app"])
        XCTAssertEqual(cfg["Entrypoint"] as? [String], ["/bin/sh", "-c"])
        XCTAssertEqual(cfg["Cmd"] as? [String], ["echo ${GREETING}"])
        let history = c["history"] as! [[String: Any]]
        let env0 = history.first { ($0["created_by"] as? String)?.hasPrefix("ENV ") == true }
        XCTAssertEqual(env0?["empty_layer"] as? Bool, true)
        let workdir = history.first { ($0["created_by"] as? String) == "WORKDIR /srv/app" }
        XCTAssertNotNil(workdir, "\(history)")
        XCTAssertNil(workdir?["empty_layer"], "WORKDIR of a missing directory creates it in a layer")
        let rootfs = (c["rootfs"] as! [String: Any])["diff_ids"] as! [String]
        XCTAssertEqual(rootfs.count, history.filter { $0["empty_layer"] as? Bool != true }.count)
        // The directory WORKDIR made belongs to nobody special (USER came later) and is 0755.
        let workdirLayer = try topLayer("meta")
        XCTAssertTrue(workdirLayer.contains("srv/app/ drwxr-xr-x 0/0"), "\(workdirLayer)")
    }

    func testRunHistoryNamesTheArgsInScopeAsBuildKitDoes() throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN echo before
        ARG VERSION=1.0 EMPTY
        ARG MODE=fast
        ENV MODE=slow
        RUN echo $VERSION
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "--run", "record", "--build-arg", "VERSION=2.5", "-t", "args", context)
        let history = (try config("args")["history"] as! [[String: Any]]).compactMap { $0["created_by"] as? String }
        XCTAssertTrue(history.contains("RUN /bin/sh -c echo before # buildkit"), "\(history)")
        XCTAssertTrue(history.contains("RUN |3 VERSION=2.5 EMPTY= MODE=slow /bin/sh -c echo $VERSION # buildkit"), "\(history)")
    }

    func testEntrypointResetsInheritedCmd() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nENTRYPOINT [\"/bin/echo\"]\n", to: context + "/Dockerfile")
        try swiftdock.ok("build", "-t", "ep", context)
        let cfg = try config("ep")["config"] as! [String: Any]
        XCTAssertNil(cfg["Cmd"], "the base's CMD [sh] is reset by ENTRYPOINT")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCMD echo hi\nENTRYPOINT [\"/bin/echo\"]\n", to: context + "/Dockerfile")
        try swiftdock.ok("build", "-t", "ep2", context)
        let cfg2 = try config("ep2")["config"] as! [String: Any]
        XCTAssertEqual(cfg2["Cmd"] as? [String], ["/bin/sh", "-c", "echo hi"])
    }

    func testMultiStageTargetAndCopyFrom() throws {
        try Harness.sh("""
        cd '\(context!)' && mkdir -p src/pkg && echo 'print(1)' > src/main.py && echo lib > src/pkg/lib.py \
          && chmod 0750 src/pkg && ln -s main.py src/entry.py && ln src/main.py src/hard.py
        """)
        try Harness.write("""
        FROM scratch AS build
        COPY --chown=1000:100 src /out/
        COPY <<EOF /out/generated.txt
        built
        EOF

        FROM scratch AS unused
        COPY does-not-exist /nope

        FROM gcr.io/deeplearning-platform-release/base-cpu:latest AS final
        COPY --from=build --chown=jupyter:users /out /app
        COPY --from=0 --chmod=0600 /out/generated.txt /etc/generated
        """, to: context + "/Dockerfile")
        let result = try swiftdock.ok("build", "-t", "multi", context)
        XCTAssertFalse(result.stderr.contains("unused"), "stage 'unused' is not needed: \(result.stderr)")
        let top = try topLayer("multi")
        XCTAssertTrue(top.contains("etc/generated -rw------- 0/0"), "\(top)")
        let previous = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "multi").stdout
        XCTAssertTrue(previous.contains("layers"))
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY --from=build /out /app\n" , to: context + "/Dockerfile.bad")
        let bad = try swiftdock.run(["build", "-f", context + "/Dockerfile.bad", "-t", "x", context])
        XCTAssertNotEqual(bad.status, 0, "--from=build names no stage here and no image")

        // --target stops at the named stage; its layer keeps modes, symlinks and hard links.
        try swiftdock.ok("build", "--target", "build", "-t", "multi-build", context)
        let build = try topLayer("multi-build")
        XCTAssertTrue(build.contains("out/generated.txt -rw-r--r-- 0/0"), "\(build)")
        let layers = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "multi-build").stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(layers.utf8)) as! [String: Any]
        let first = ((manifest["layers"] as! [[String: Any]]).first!["digest"] as! String).dropFirst(7)
        let listing = try Harness.sh("tar --numeric-owner -tvzf '\(swiftdock.home)/blobs/sha256/\(first)'")
        XCTAssertTrue(listing.contains("drwxr-x--- 1000/100"), listing)
        XCTAssertTrue(listing.contains("out/entry.py -> main.py"), listing)
        XCTAssertTrue(listing.contains("out/pkg/lib.py"), listing)
        XCTAssertTrue(listing.contains(" link to "), "hard link kept: \(listing)")

        // The final stage's files came from the build stage with --chown by name.
        let finalLayers = try topLayerBelow("multi")
        XCTAssertTrue(finalLayers.contains("app/pkg/lib.py -rw-r--r-- 1000/100"), "\(finalLayers)")
        XCTAssertTrue(finalLayers.contains("app/pkg/ drwxr-x--- 1000/100"), "\(finalLayers)")
    }

    func testAddExtractsLocalArchivesByContent() throws {
        try Harness.sh("""
        cd '\(context!)' && mkdir -p payload/sub && echo one > payload/a.txt && echo two > payload/sub/b.txt \
          && tar -czf bundle.tgz -C payload . && tar -cf plain.tar -C payload . && cp bundle.tgz notanarchive.gz.tgz \
          && echo hello | gzip > hello.gz
        """)
        try Harness.write("FROM scratch\nADD bundle.tgz /x/\nADD plain.tar /y\nADD hello.gz /z/\n", to: context + "/Dockerfile")
        try swiftdock.ok("build", "-t", "add", context)
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "add").stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        let all = try (manifest["layers"] as! [[String: Any]]).map { layer -> String in
            let digest = (layer["digest"] as! String).dropFirst(7)
            return try Harness.sh("tar -tzf '\(swiftdock.home)/blobs/sha256/\(digest)'")
        }.joined()
        XCTAssertTrue(all.contains("x/sub/b.txt"), all)
        XCTAssertTrue(all.contains("y/a.txt"), all)
        XCTAssertTrue(all.contains("z/hello.gz"), "a gzip of a non-tar file is copied as is: \(all)")
    }

    func testDockerfileOutsideTheContextAndItsOwnIgnoreFile() throws {
        let elsewhere = try Harness.makeTemporaryDirectory("dockerfiles")
        try Harness.sh("cd '\(context!)' && echo keep > keep.txt && echo secret > secret.txt && echo log > app.log")
        try Harness.write("secret.txt\n", to: context + "/.dockerignore")
        try Harness.write("FROM scratch\nCOPY . /ctx/\n", to: elsewhere + "/app.Dockerfile")
        // With only the context's .dockerignore: secret.txt is left out.
        try swiftdock.ok("build", "-f", elsewhere + "/app.Dockerfile", "-t", "outside", context)
        var layer = try topLayer("outside").joined(separator: "\n")
        XCTAssertTrue(layer.contains("ctx/keep.txt") && layer.contains("ctx/app.log"), layer)
        XCTAssertFalse(layer.contains("secret.txt"), layer)
        // <Dockerfile>.dockerignore beside the Dockerfile replaces the context's file entirely.
        try Harness.write("*.log\n", to: elsewhere + "/app.Dockerfile.dockerignore")
        try swiftdock.ok("build", "-f", elsewhere + "/app.Dockerfile", "-t", "outside2", context)
        layer = try topLayer("outside2").joined(separator: "\n")
        XCTAssertTrue(layer.contains("ctx/secret.txt"), layer)
        XCTAssertFalse(layer.contains("app.log"), layer)
    }

    func testUnusedBuildArgIsWarnedAbout() throws {
        try Harness.write("FROM scratch\nARG USED\nLABEL v=$USED\n", to: context + "/Dockerfile")
        let result = try swiftdock.ok("build", "--build-arg", "USED=1", "--build-arg", "NOT_USED=2",
                                      "--build-arg", "HTTP_PROXY=http://proxy:3128", "-t", "args", context)
        XCTAssertTrue(result.stderr.contains("WARNING: One or more build-args [NOT_USED] were not consumed"), result.stderr)
    }

    func testImagesTagRmiInspect() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nLABEL a=b\n", to: context + "/Dockerfile")
        let id = try swiftdock.ok("build", "-q", "-t", "demo:1", context).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try swiftdock.ok("tag", "demo:1", "localhost:5000/team/demo:latest")
        let table = try swiftdock.ok("images").stdout
        let lines = table.split(separator: "\n")
        XCTAssertEqual(lines.first.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") },
                       "REPOSITORY TAG IMAGE ID CREATED SIZE")
        XCTAssertTrue(lines.contains { $0.hasPrefix("demo ") && $0.contains(" 1 ") && $0.contains(String(id.dropFirst(7).prefix(12))) }, table)
        XCTAssertTrue(lines.contains { $0.hasPrefix("localhost:5000/team/demo ") }, table)
        let digest = try swiftdock.ok("inspect", "--format", "{{.Digest}}", "demo:1").stdout.trimmingCharacters(in: .newlines)
        let withDigests = try swiftdock.ok("images", "--digests", "demo").stdout.split(separator: "\n")
        XCTAssertEqual(withDigests.first.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") },
                       "REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE")
        XCTAssertTrue(withDigests.dropFirst().first?.contains(" \(digest) ") == true, "\(withDigests)")
        let json = try swiftdock.ok("images", "--format", "json").stdout
        for line in json.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertNotNil(object["Repository"])
            XCTAssertNotNil(object["ID"])
        }
        XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{.Id}}", "demo:1").stdout, id + "\n")
        XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{.Id}}", String(id.dropFirst(7).prefix(12))).stdout, id + "\n")
        let rmi = try swiftdock.ok("rmi", "demo:1").stdout
        XCTAssertTrue(rmi.contains("Untagged: demo:1"), rmi)
        XCTAssertFalse(try swiftdock.ok("images").stdout.split(separator: "\n").contains { $0.hasPrefix("demo ") })
        let missing = try swiftdock("rmi", "demo:1")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("demo:1"), missing.stderr)
        let inspectMissing = try swiftdock("inspect", "nothing-here")
        XCTAssertEqual(inspectMissing.status, 1)
        XCTAssertEqual(inspectMissing.stderr.split(separator: "\n").count, 1, inspectMissing.stderr)
    }

    /// Entries of the final image's layer just under the top one.
    private func topLayerBelow(_ image: String) throws -> [String] {
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", image).stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        let layers = manifest["layers"] as! [[String: Any]]
        let digest = (layers[layers.count - 2]["digest"] as! String).dropFirst(7)
        return try Harness.sh("tar --numeric-owner -tvzf '\(swiftdock.home)/blobs/sha256/\(digest)'")
            .split(separator: "\n").map { line in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                return "\(f.last!) \(f[0]) \(f[1])"
            }
    }
}
