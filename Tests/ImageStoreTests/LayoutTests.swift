import Foundation
import ImageModel
@testable import ImageStore
import Layers
import XCTest

/// The on-disk layout, blobs and their integrity.
final class LayoutTests: XCTestCase {
    func testSHA256MatchesKnownVectorsAndSha256sum() throws {
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ]
        for (input, hex) in vectors {
            XCTAssertEqual(SHA256Stream.digest(of: Array(input.utf8)).encoded, hex, "sha256(\"\(input)\")")
        }
        // Odd sizes around block boundaries, fed in uneven pieces, against sha256sum.
        let scratch = try makeScratchDirectory(self)
        for size in [1, 55, 56, 63, 64, 65, 127, 128, 1000, 200_003] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 3) }
            let path = scratch + "/v\(size)"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            var hasher = SHA256Stream()
            var offset = 0, step = 1
            while offset < size {
                let end = min(size, offset + step)
                bytes[offset..<end].withUnsafeBytes { hasher.update($0) }
                offset = end
                step = step * 3 + 1
            }
            XCTAssertEqual(hasher.finalize(), try sha256sum(path), "size \(size)")
        }
    }

    func testInitCreatesLayoutAndReopens() throws {
        let root = try makeScratchDirectory(self) + "/store"
        let store = try ImageStore(root: root)
        XCTAssertEqual(String(decoding: try FileSystem.readFile(root + "/oci-layout"), as: UTF8.self), #"{"imageLayoutVersion":"1.0.0"}"#)
        XCTAssertTrue(FileSystem.isDirectory(root + "/blobs/sha256"))
        XCTAssertTrue(FileSystem.isDirectory(root + "/tmp"))
        let index = try CanonicalJSON.decode(ImageIndex.self, from: Data(try FileSystem.readFile(root + "/index.json")))
        XCTAssertEqual(index.manifests, [])
        XCTAssertEqual(index.mediaType, MediaType.ociIndex)
        XCTAssertEqual(store.root, root)
        // Reopening validates and keeps content.
        let digest = try store.writeBlob(Array("hello".utf8))
        let again = try ImageStore(root: root)
        XCTAssertEqual(try again.readBlob(digest), Array("hello".utf8))
    }

    func testDefaultRoot() {
        let cases: [([String: String], String)] = [
            (["SWIFTDOCK_HOME": "/srv/sd", "XDG_DATA_HOME": "/x", "HOME": "/home/u"], "/srv/sd"),
            (["XDG_DATA_HOME": "/x", "HOME": "/home/u"], "/x/swiftdock"),
            (["HOME": "/home/u"], "/home/u/.local/share/swiftdock"),
            (["SWIFTDOCK_HOME": "", "XDG_DATA_HOME": "", "HOME": "/home/u"], "/home/u/.local/share/swiftdock"),
        ]
        for (environment, expected) in cases {
            XCTAssertEqual(ImageStore.defaultRoot(environment: environment), expected, "\(environment)")
        }
    }

    func testRootErrors() throws {
        let scratch = try makeScratchDirectory(self)
        // A path below a regular file cannot be created, even as root.
        _ = FileManager.default.createFile(atPath: scratch + "/file", contents: Data("x".utf8))
        assertStoreError(try ImageStore(root: scratch + "/file/store")) {
            if case .io(let path, _) = $0 { return path.hasPrefix(scratch + "/file") } else { return false }
        }
        // A directory with foreign content is not adopted.
        try FileManager.default.createDirectory(atPath: scratch + "/other", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: scratch + "/other/notes.txt", contents: Data())
        assertStoreError(try ImageStore(root: scratch + "/other")) {
            if case .notAnImageLayout = $0 { return true } else { return false }
        }
        // An unknown layout version is refused.
        let future = scratch + "/future"
        _ = try ImageStore(root: future)
        try #"{"imageLayoutVersion":"2.0.0"}"#.write(toFile: future + "/oci-layout", atomically: true, encoding: .utf8)
        assertStoreError(try ImageStore(root: future)) {
            if case .notAnImageLayout(_, let reason) = $0 { return reason.contains("2.0.0") } else { return false }
        }
        // A broken index.json is reported with its path.
        let broken = scratch + "/broken"
        _ = try ImageStore(root: broken)
        try "{".write(toFile: broken + "/index.json", atomically: true, encoding: .utf8)
        assertStoreError(try ImageStore(root: broken)) {
            if case .corrupt(let path, _) = $0 { return path == broken + "/index.json" } else { return false }
        }
    }

    func testWriteReadAndCorruptBlob() throws {
        let store = try ImageStore(root: try makeScratchDirectory(self) + "/store")
        let bytes = Array("layer bytes".utf8)
        let digest = try store.writeBlob(bytes)
        XCTAssertEqual(digest, SHA256Stream.digest(of: bytes))
        XCTAssertEqual(try store.writeBlob(bytes), digest, "writing twice is a no-op")
        XCTAssertTrue(store.hasBlob(digest))
        XCTAssertEqual(store.blobPath(digest), store.root + "/blobs/sha256/" + digest.encoded)
        XCTAssertEqual(try sha256sum(store.blobPath(digest)), digest)
        XCTAssertEqual(try store.readBlob(digest), bytes)

        // Corrupt the blob in place: reading must notice.
        try "tampered".write(toFile: store.blobPath(digest), atomically: false, encoding: .utf8)
        assertStoreError(try store.readBlob(digest)) {
            if case .digestMismatch(let path, let expected, _) = $0 { return path == store.blobPath(digest) && expected == digest } else { return false }
        }
        let missing = SHA256Stream.digest(of: Array("never stored".utf8))
        assertStoreError(try store.readBlob(missing)) { $0 == .blobNotFound(missing) }
        XCTAssertEqual(try FileSystem.list(store.root + "/tmp"), [], "no temporary file is left behind")
    }

    func testWriteJSONIsCanonical() throws {
        let store = try ImageStore(root: try makeScratchDirectory(self) + "/store")
        let config = ImageConfiguration(created: "2026-01-02T03:04:05Z", platform: Platform(os: "linux", architecture: "amd64"))
        let descriptor = try store.writeJSON(config, mediaType: MediaType.ociConfig)
        let expected = Array(try CanonicalJSON.encode(config))
        XCTAssertEqual(descriptor.size, Int64(expected.count))
        XCTAssertEqual(descriptor.mediaType, MediaType.ociConfig)
        XCTAssertEqual(try store.readBlob(descriptor.digest), expected)
    }

    func testIngestVerifiesAndDeduplicates() throws {
        let store = try ImageStore(root: try makeScratchDirectory(self) + "/store")
        let content = Data("streamed layer".utf8)
        let digest = SHA256Stream.digest(of: Array(content))

        let wrong = try store.makeTemporaryFile()
        try content.write(to: URL(fileURLWithPath: wrong))
        let bogus = SHA256Stream.digest(of: Array("other".utf8))
        assertStoreError(try store.ingest(temporaryFile: wrong, digest: bogus, verify: true)) {
            if case .digestMismatch = $0 { return true } else { return false }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: wrong), "a rejected temporary file is removed")
        XCTAssertFalse(store.hasBlob(bogus))

        for _ in 0..<2 {
            let temporary = try store.makeTemporaryFile()
            XCTAssertTrue(temporary.hasPrefix(store.root + "/tmp/"))
            try content.write(to: URL(fileURLWithPath: temporary))
            try store.ingest(temporaryFile: temporary, digest: digest, verify: true)
            XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
        }
        XCTAssertEqual(try store.readBlob(digest), Array(content))
    }

    /// Entries that name no owner (older swiftdocks) go after an hour untouched; an entry of a
    /// live owner stays whatever its age (a long RUN may not touch its upper dir's top for hours).
    /// Entries of owners that are gone: `ReclaimTests`.
    func testStaleTemporaryFilesAreRemovedOnOpen() throws {
        let root = try makeScratchDirectory(self) + "/store"
        let store = try ImageStore(root: root)
        let stale = root + "/tmp/\(getpid())-0123456789abcdef"
        let fresh = root + "/tmp/\(getpid())-fedcba9876543210"
        let owned = try store.makeTemporaryFile()
        let old = Date().addingTimeInterval(-7200)
        for path in [stale, fresh, owned] {
            try Data("half a layer".utf8).write(to: URL(fileURLWithPath: path))
        }
        // Pretend the writers last touched them two hours ago.
        for path in [stale, owned] {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
        }

        _ = try ImageStore(root: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "stale temporary file removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh), "a fresh one may still be in use")
        XCTAssertTrue(FileManager.default.fileExists(atPath: owned), "its owner still runs")
        XCTAssertEqual(try store.tags().count, 0)
    }
}
