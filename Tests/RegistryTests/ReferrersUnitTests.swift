import Foundation
import ImageModel
@testable import Registry
import XCTest

/// The referrers pieces that need no registry: the tag schema's name and `Link` pages.
final class ReferrersUnitTests: XCTestCase {
    /// distribution-spec v1.1's own table ("Referrers Tag Schema"): algorithm truncated to 32,
    /// encoded part to 64 (so a sha512 tag is cut).
    func testReferrersTagFollowsTheSpecTable() throws {
        let a64 = String(repeating: "a", count: 64)
        let cases: [(String, String)] = [
            ("sha256:" + a64, "sha256-" + a64),
            ("sha512:" + String(repeating: "a", count: 128), "sha512-" + a64),
            ("sha256:0123456789abcdef" + String(repeating: "0", count: 48), "sha256-0123456789abcdef" + String(repeating: "0", count: 48)),
        ]
        for (digest, tag) in cases {
            XCTAssertEqual(RegistryRepository.referrersTag(for: try Digest(parsing: digest)), tag)
        }
    }

    func testNextLink() {
        let cases: [(String, String?)] = [
            ("</v2/a/referrers/sha256:1?page=2>; rel=\"next\"", "/v2/a/referrers/sha256:1?page=2"),
            ("<https://r.example/v2/a/referrers/x?last=b>;rel=\"next\"", "https://r.example/v2/a/referrers/x?last=b"),
            ("</first>; rel=\"prev\", </second>; rel=\"next\"", "/second"),
            ("</only>; rel=\"prev\"", nil),
            ("garbage", nil),
            ("", nil),
        ]
        for (header, expected) in cases {
            XCTAssertEqual(RegistryClient.nextLink(header), expected, header)
        }
    }
}
