import Foundation
import ImageModel
@testable import GoogleAuth
@testable import HTTPTransport
@testable import Registry
import XCTest

/// Pieces that need no registry: platform choice, upload URLs, manifest media types.
final class DistributionUnitTests: XCTestCase {
    func descriptor(_ platform: String, _ n: Int) throws -> Descriptor {
        let parts = platform.split(separator: "/").map(String.init)
        return Descriptor(mediaType: MediaType.ociManifest,
                          digest: try Digest(sha256Hex: String(repeating: String(n), count: 64)), size: 1,
                          platform: Platform(os: parts[0], architecture: parts[1], variant: parts.count > 2 ? parts[2] : nil))
    }

    func testPlatformChoice() throws {
        let index = [try descriptor("linux/amd64", 1), try descriptor("linux/arm64", 2), try descriptor("linux/arm/v6", 3),
                     try descriptor("linux/arm/v7", 4), try descriptor("unknown/unknown", 5)]
        let cases: [(String, Int?)] = [
            ("linux/amd64", 0), ("linux/arm64", 1), ("linux/arm64/v8", 1), ("linux/aarch64", 1),
            ("linux/arm", 3), ("linux/arm/v7", 3), ("linux/arm/v6", 2), ("linux/armhf", 3), ("linux/arm/v5", nil),
            ("linux/s390x", nil), ("windows/amd64", nil), ("unknown/unknown", nil),
        ]
        for (wanted, expected) in cases {
            let chosen = PlatformMatcher.choose(index, for: try Platform(parsing: wanted))
            XCTAssertEqual(chosen, expected.map { index[$0] }, wanted)
        }
        XCTAssertEqual(PlatformMatcher.available(index), ["linux/amd64", "linux/arm64", "linux/arm/v6", "linux/arm/v7"])
        // An index that lists arm64 with v8 explicitly matches a plain arm64 request too.
        let explicit = [try descriptor("linux/arm64/v8", 7)]
        XCTAssertEqual(PlatformMatcher.choose(explicit, for: Platform(os: "linux", architecture: "arm64")), explicit[0])
    }

    func testUploadURLKeepsTheQueryTheRegistrySent() throws {
        let digest = try Digest(sha256Hex: String(repeating: "a", count: 64))
        let encoded = "digest=sha256%3A" + String(repeating: "a", count: 64)
        let cases = [
            ("http://r/v2/a/blobs/uploads/u1", "http://r/v2/a/blobs/uploads/u1?" + encoded),
            ("http://r/v2/a/blobs/uploads/u1?_state=xyz", "http://r/v2/a/blobs/uploads/u1?_state=xyz&" + encoded),
            ("https://storage/upload?x=1&", "https://storage/upload?x=1&" + encoded),
            ("https://storage/upload?", "https://storage/upload?" + encoded),
        ]
        for (location, expected) in cases {
            XCTAssertEqual(RegistryClient.uploadURL(location, digest: digest), expected)
        }
        XCTAssertEqual(RegistryClient.resolve("/v2/a/blobs/uploads/u1?s=1", against: "http://127.0.0.1:5000/v2/a/blobs/uploads/"),
                       "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?s=1")
    }

    func testManifestMediaTypeFromHeaderDocumentOrShape() throws {
        let repository = RegistryRepository(registry: "r", name: "a")
        func type(_ header: String?, _ json: String) throws -> String {
            try RegistryClient.manifestMediaType(header: header, bytes: Array(json.utf8), what: "manifest x", repository: repository)
        }
        XCTAssertEqual(try type(MediaType.dockerManifest + "; charset=utf-8", "{}"), MediaType.dockerManifest)
        XCTAssertEqual(try type("application/json", #"{"mediaType":"\#(MediaType.ociIndex)","manifests":[]}"#), MediaType.ociIndex)
        XCTAssertEqual(try type(nil, #"{"schemaVersion":2,"manifests":[]}"#), MediaType.ociIndex)
        XCTAssertEqual(try type(nil, #"{"schemaVersion":2,"layers":[]}"#), MediaType.ociManifest)
        XCTAssertThrowsError(try type("application/vnd.docker.distribution.manifest.v1+prettyjws", #"{"schemaVersion":1}"#)) { error in
            XCTAssertTrue("\(error)".contains("schema 1 is not supported"), "\(error)")
        }
    }
}
