import Foundation
import XCTest

/// What the secret and ssh tests look at: an image's root file system, and every byte a build
/// left behind.
extension Swiftdock {
    /// Saves `image` as an OCI layout, unpacks it with umoci and returns the root file system.
    func unpackRootfs(_ image: String) throws -> String {
        let out = try Harness.makeTemporaryDirectory("secret-oci")
        try ok("save", image, "--format", "oci", "-o", out + "/oci")
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:latest bundle >/dev/null")
        return out + "/bundle/rootfs"
    }

    static func sha256(_ text: String) -> String {
        let result = try? Harness.run("/bin/sh", ["-c", "printf %s \"$V\" | sha256sum | cut -c1-64"], environment: ["V": text])
        return result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// No file of the store (gzip blobs also decompressed), of the image saved as a docker archive
    /// (unpacked) and as an OCI layout (`saving`), nor the build's `output` holds any of `values`.
    func assertNothingHolds(_ values: [String], output: String, image: String, saving: Bool = true,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let saved = try Harness.makeTemporaryDirectory("secret-saved")
        defer { try? FileManager.default.removeItem(atPath: saved) }
        if saving {
            try ok("save", image, "-o", saved + "/image.tar")
            try ok("save", image, "--format", "oci", "-o", saved + "/oci")
            try Harness.sh("mkdir '\(saved)/archive' && tar -xf '\(saved)/image.tar' -C '\(saved)/archive'")
        }
        let count = try Harness.sh("find '\(home)' '\(saved)' -type f | wc -l")
        XCTAssertGreaterThan(Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 5, "the scan sees the store", file: file, line: line)
        for value in values {
            XCTAssertFalse(output.contains(value), "the build's output shows a secret", file: file, line: line)
            // Every file as it is (one grep), then every blob decompressed.
            let scan = try Harness.run("/bin/bash", ["-c", """
                grep -rlaF -- "$LEAK" "$1" "$2"
                find "$1" "$2" -path '*/blobs/*' -type f -print0 | while IFS= read -r -d '' f; do
                  if gzip -t "$f" 2>/dev/null; then zcat "$f" | grep -aqF -- "$LEAK" && echo "$f (decompressed)"; fi
                done; true
                """, "scan", home, saved], environment: ["LEAK": value])
            XCTAssertEqual(scan.stdout, "", "files holding a secret", file: file, line: line)
        }
    }

    /// The content of `path` in the image's top layer (read from the store's blob, no unpacking).
    func topLayerFile(_ image: String, _ path: String) throws -> String {
        let raw = try ok("inspect", "--format", "{{json .Manifest}}", image).stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any]
        let layer = (manifest?["layers"] as? [[String: Any]])?.last?["digest"] as? String ?? ""
        return try Harness.sh("tar -xzOf '\(home)/blobs/sha256/\(layer.dropFirst(7))' '\(path)'")
    }
}
