import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// Image archives as push sources and destinations (`oci-archive:`, `docker-archive:`, issue 12):
/// store → archive → store keeps every digest, skopeo reads what is written and writes what
/// is read, and hostile archives fail with one line, leaving nothing behind.
final class ImageArchiveTests: XCTestCase {
    func testStoreToArchiveToStoreKeepsEveryDigestAndSkopeoReadsIt() async throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let layers = [try makeLayer(store, files: ["etc/os-release": "ID=test\n"], scratch: scratch),
                      try makeLayer(store, files: ["app/main.py": "print('hi')\n"], scratch: scratch)]
        let image = try makeImage(store, layers: layers)
        let stored = try store.image(image)
        let blobs = [stored.configDescriptor] + stored.manifest.layers
        for format in [ImageArchiveFormat.oci, .docker] {
            let file = "\(scratch)/\(format.rawValue).tar"
            let name = format == .oci ? "v1" : "example.com/team/app:v1"
            let writer = try ImageArchiveWriter(file: file, format: format)
            _ = try await ImagePusher(backoff: .zero).push(image, from: StoreContent(store: store), to: writer.layout, tag: nil)
            try writer.commit(image: image, name: name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: writer.layout.path), "\(format): staging removed")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.hasPrefix(".") }, [])

            // skopeo reads the archive: same layers (and, for oci-archive, the same manifest).
            if hasTool("skopeo") {
                let info = try inspect("\(format.rawValue):\(file)" + (format == .oci ? ":v1" : ""))
                // skopeo lists a docker archive's layers by their uncompressed digests (diff IDs).
                let expected = format == .oci ? stored.manifest.layers.map(\.digest) : layers.map(\.diffID)
                XCTAssertEqual(info["Layers"] as? [String], expected.map(\.description), "\(format)")
                if format == .oci { XCTAssertEqual(info["Digest"] as? String, image.digest.description) }
            }

            // Back into a fresh store: the same manifest, every descriptor matching its bytes.
            let source = try await ImageArchiveSource.open(file, format: format, name: name, staging: scratch + "/staging-\(format)")
            XCTAssertEqual(source.image.digest, image.digest, "\(format)")
            let other = try ImageStore(root: scratch + "/back-\(format)")
            let pushed = try await ImagePusher(backoff: .zero).push(source.image, from: source.layout, to: StoreContent(store: other), tag: nil)
            source.close()
            XCTAssertFalse(FileManager.default.fileExists(atPath: source.staging), "\(format): staging removed")
            XCTAssertEqual(pushed.digest, image.digest)
            for descriptor in blobs + [image] {
                let path = other.blobPath(descriptor.digest)
                XCTAssertEqual(try sha256sum(path), descriptor.digest, "\(format) \(path)")
                XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value, descriptor.size)
            }
            if format == .docker { XCTAssertEqual(source.names, ["example.com/team/app:v1"]) }
        }
        // An index fits an OCI archive, not a docker one: refused before anything is written.
        let index = try store.writeJSON(ImageIndex(mediaType: MediaType.ociIndex, manifests: [image]), mediaType: MediaType.ociIndex)
        XCTAssertNoThrow(try ImageArchiveWriter.check(index, format: .oci, file: "x.tar"))
        XCTAssertThrowsError(try ImageArchiveWriter.check(index, format: .docker, file: "x.tar")) { error in
            XCTAssertTrue("\(error)".contains("holds one platform's image"), "\(error)")
        }
    }

    /// skopeo writes the archives (docker's legacy layout: uncompressed layers, `<id>/layer.tar`
    /// symlinks); they are read, pushed into a layout, and skopeo reads that layout.
    func testArchivesSkopeoWritesAreRead() async throws {
        guard hasTool("skopeo") else { throw XCTSkip("skopeo is not installed") }
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let image = try makeImage(store, layers: [try makeLayer(store, files: ["hello": "skopeo\n"], scratch: scratch)])
        let layoutPath = scratch + "/layout"
        _ = try await ImagePusher(backoff: .zero).push(image, from: StoreContent(store: store), to: try OCILayoutDirectory(creatingAt: layoutPath), tag: "v1")
        let cases: [(format: ImageArchiveFormat, target: String, name: String?, keepsDigest: Bool)] = [
            (.oci, "oci-archive:\(scratch)/skopeo-oci.tar:v1", "v1", true),
            (.docker, "docker-archive:\(scratch)/skopeo-docker.tar:team/app:v2", "team/app:v2", false),
            (.docker, "docker-archive:\(scratch)/skopeo-docker-unnamed.tar", nil, false),
        ]
        for c in cases {
            try runChecked(["skopeo", "copy", "--quiet", "--insecure-policy", "oci:\(layoutPath):v1", c.target])
            let file = String(c.target.dropFirst(c.format.rawValue.count + 1).prefix { $0 != ":" })
            let source = try await ImageArchiveSource.open(file, format: c.format, name: c.name, staging: "\(scratch)/staging-\(UUID().uuidString)")
            defer { source.close() }
            if c.keepsDigest { XCTAssertEqual(source.image.digest, image.digest) }
            let out = try OCILayoutDirectory(creatingAt: "\(scratch)/out-\(UUID().uuidString)")
            _ = try await ImagePusher(backoff: .zero).push(source.image, from: source.layout, to: out, tag: "x")
            let info = try inspect("oci:\(out.path):x")
            XCTAssertEqual(info["Digest"] as? String, source.image.digest.description, c.target)
            XCTAssertEqual((info["Layers"] as? [String])?.count, 1, c.target)
        }
    }

    func testHostileArchivesFailWithOneLineAndLeaveNothing() async throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let image = try makeImage(store, layers: [try makeLayer(store, files: ["a": "a\n"], scratch: scratch)])
        let layer = try store.image(image).manifest.layers[0]
        let good = scratch + "/good"
        _ = try await ImagePusher(backoff: .zero).push(image, from: StoreContent(store: store), to: try OCILayoutDirectory(creatingAt: good), tag: "v1")
        let layerPath = "blobs/sha256/\(layer.digest.encoded)"
        let hugeIndex = #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(image.digest)","size":99999999999}]}"#

        // (name, format, entries to add to or replace in the good layout, error fragment)
        let cases: [(String, ImageArchiveFormat, [Entry], String)] = [
            ("escaping name", .oci, [.file("../../escape", "x")], "escapes the archive"),
            ("absolute symlink", .oci, [.symlink("evil", "/etc/passwd")], "outside the archive"),
            ("symlink climbing out", .oci, [.symlink("blobs/evil", "../../../etc/passwd")], "outside the archive"),
            ("hard link to nothing", .oci, [.hardlink("blobs/evil", "blobs/none")], "does not hold as a file"),
            ("fifo", .oci, [.fifo("blobs/pipe")], "FIFO"),
            ("named twice", .oci, [.file("oci-layout", "{}"), .file("oci-layout", "{}")], "named twice"),
            ("huge index.json", .oci, [.file("index.json", String(repeating: " ", count: 5 << 20))], "more than"),
            ("huge manifest", .oci, [.file("index.json", hugeIndex)], "more than the 4194304"),
            ("missing blob", .oci, [.omit(layerPath)], "not in the source"),
            ("wrong digest", .oci, [.file(layerPath, String(repeating: "x", count: Int(layer.size)))], "hashes to"),
            ("not a layout", .oci, [.omit("oci-layout")], "no oci-layout"),
            ("docker: no manifest.json", .docker, [], "manifest.json is missing"),
            ("docker: layer outside", .docker,
             [.file("manifest.json", #"[{"Config":"blobs/sha256/\#(try store.image(image).imageID.encoded)","Layers":["../x"]}]"#)], "outside the archive"),
            ("docker: layer missing", .docker,
             [.file("manifest.json", #"[{"Config":"blobs/sha256/\#(try store.image(image).imageID.encoded)","Layers":["nope.tar"]}]"#)],
             "does not hold"),
        ]
        for (name, format, entries, fragment) in cases {
            let archive = "\(scratch)/\(name.replacingOccurrences(of: " ", with: "-")).tar"
            try makeTar(archive, from: good, entries)
            let staging = "\(scratch)/staging-\(UUID().uuidString)"
            do {
                let source = try await ImageArchiveSource.open(archive, format: format, name: nil, staging: staging)
                defer { source.close() }
                _ = try await ImagePusher(backoff: .zero).push(source.image, from: source.layout, to: StoreContent(store: try ImageStore(root: scratch + "/target")), tag: nil)
                XCTFail("\(name): accepted")
            } catch {
                let line = "\(error)"
                XCTAssertTrue(line.contains(fragment), "\(name): \(line)")
                XCTAssertFalse(line.contains("\n"), name)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: staging), "\(name): staging left behind")
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/escape") || FileManager.default.fileExists(atPath: "/tmp/escape"), name)
        }
    }

    // MARK: helpers

    func inspect(_ name: String) throws -> [String: Any] {
        let output = try runChecked(["skopeo", "inspect", name])
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    enum Entry: Encodable {
        case file(String, String), symlink(String, String), hardlink(String, String), fifo(String), omit(String)

        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .file(let name, let content): try c.encode(["file", name, content])
            case .symlink(let name, let target): try c.encode(["symlink", name, target])
            case .hardlink(let name, let target): try c.encode(["hardlink", name, target])
            case .fifo(let name): try c.encode(["fifo", name, ""])
            case .omit(let name): try c.encode(["omit", name, ""])
            }
        }
    }

    /// A tar of the layout at `base` (every file, in order) with `entries` replacing or added,
    /// written by Python's tarfile (which writes any name or type it is told to).
    func makeTar(_ output: String, from base: String, _ entries: [Entry]) throws {
        let script = """
        import json, os, sys, tarfile, io
        out, base, entries = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
        replaced = {e[1] for e in entries}
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            for root, dirs, files in os.walk(base):
                dirs.sort()
                for f in sorted(files):
                    path = os.path.join(root, f)
                    name = os.path.relpath(path, base)
                    if name not in replaced:
                        tar.add(path, arcname=name)
            for kind, name, value in entries:
                info = tarfile.TarInfo(name)
                if kind == "file":
                    data = value.encode()
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                elif kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, value
                    tar.addfile(info)
                elif kind == "hardlink":
                    info.type, info.linkname = tarfile.LNKTYPE, value
                    tar.addfile(info)
                elif kind == "fifo":
                    info.type = tarfile.FIFOTYPE
                    tar.addfile(info)
        """
        let spec = output + ".json"
        try JSONEncoder().encode(entries).write(to: URL(fileURLWithPath: spec))
        try runChecked(["python3", "-c", script, output, base, spec])
    }
}
