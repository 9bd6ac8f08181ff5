import Foundation
import XCTest
@testable import ImageModel

final class ModelTests: XCTestCase {
    func testDigestParsing() throws {
        let hex = String(repeating: "0", count: 63) + "f"
        XCTAssertEqual(try Digest(parsing: "sha256:\(hex)").encoded, hex)
        for bad in ["sha256:", "sha256:ABC", "md5:" + hex, hex, "sha256:" + hex + "0"] {
            XCTAssertThrowsError(try Digest(parsing: bad), bad)
        }
    }

    /// Raw bytes give the digest their hex parses to, and the known SHA-256 of "abc".
    func testDigestFromRawBytes() throws {
        let cases: [[UInt8]] = [Array(repeating: 0, count: 32), Array(repeating: 0xff, count: 32), (0..<32).map { UInt8($0 * 7 + 3) }]
        for bytes in cases {
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(Digest(sha256Bytes: bytes), try Digest(sha256Hex: hex))
            XCTAssertEqual(Digest(sha256Bytes: bytes[...]).description, "sha256:" + hex)
        }
        XCTAssertEqual(SHA256Stream.digest(of: Array("abc".utf8)).encoded,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testConfigJSONUsesDockerKeysAndIsStable() throws {
        var config = ImageConfiguration(created: "2026-01-01T00:00:00Z", platform: Platform(os: "linux", architecture: "amd64"))
        config.config.env = ["PATH=/bin"]
        config.config.exposedPorts = ["80/tcp": EmptyObject()]
        config.config.healthcheck = Healthcheck(test: ["NONE"])
        config.rootfs.diffIDs = [try Digest(sha256Hex: String(repeating: "1", count: 64))]
        config.history = [History(created: "2026-01-01T00:00:00Z", createdBy: "ENV PATH=/bin", emptyLayer: true)]
        let a = try CanonicalJSON.encode(config)
        let b = try CanonicalJSON.encode(try CanonicalJSON.decode(ImageConfiguration.self, from: a))
        XCTAssertEqual(a, b)
        let text = String(decoding: a, as: UTF8.self)
        for key in ["\"Env\":[\"PATH=/bin\"]", "\"ExposedPorts\":{\"80/tcp\":{}}", "\"diff_ids\"", "\"empty_layer\":true",
                    "\"Healthcheck\":{\"Test\":[\"NONE\"]}", "\"created_by\":\"ENV PATH=/bin\""] {
            XCTAssertTrue(text.contains(key), "\(key) missing in \(text)")
        }
    }

    func testTimestamps() {
        XCTAssertEqual(Timestamp.rfc3339(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.rfc3339(Date(timeIntervalSince1970: 1_700_000_000.5)), "2023-11-14T22:13:20.5Z")
        XCTAssertEqual(Timestamp.parse("2023-11-14T22:13:20.123456789Z")?.timeIntervalSince1970 ?? 0, 1_700_000_000.123, accuracy: 0.001)
    }

    func testPlatformParsing() throws {
        XCTAssertEqual(try Platform(parsing: "linux/amd64").description, "linux/amd64")
        XCTAssertEqual(try Platform(parsing: "linux/arm64/v8").variant, "v8")
        XCTAssertEqual(try Platform(parsing: "linux/x86_64").architecture, "amd64")
        XCTAssertThrowsError(try Platform(parsing: "linux"))
    }
}
