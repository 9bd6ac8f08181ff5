import Foundation

/// One PEM block (RFC 7468): its label (`PRIVATE KEY`, `ENCRYPTED SIGSTORE PRIVATE KEY`, …) and
/// the bytes its base64 text decodes to.
///
/// Hand-written because the labels cosign uses for its encrypted keys are not ones swift-crypto's
/// PEM readers accept, and its PEM type lives in swift-asn1, which the package does not list.
struct PEMBlock: Equatable {
    var label: String
    var bytes: [UInt8]

    /// Key files are a few hundred bytes; anything bigger is not a key.
    static let maxFileSize = 64 << 10

    /// The first PEM block in `text`, nil when there is none. Text before and after the block
    /// (comments, a second block) is ignored, as Go's `pem.Decode` does.
    static func first(in text: String) -> PEMBlock? {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) else { return nil }
        let label = String(lines[begin].dropFirst("-----BEGIN ".count).dropLast(5))
        guard let end = lines[(begin + 1)...].firstIndex(of: "-----END \(label)-----") else { return nil }
        let body = lines[(begin + 1)..<end]
        // Headers (`Proc-Type: …`) mark legacy OpenSSL encryption, which cosign does not write.
        guard !body.contains(where: { $0.contains(":") }),
              let bytes = Data(base64Encoded: body.joined()) else { return nil }
        return PEMBlock(label: label, bytes: Array(bytes))
    }

    /// The first PEM block of a key file's contents; `name` names the file and `what` the key
    /// it should hold (`private key`, `public key`) in the error when there is none or the file
    /// is too big to be a key.
    static func key(in pem: [UInt8], name: String, what: String) throws -> PEMBlock {
        guard pem.count <= maxFileSize, let block = first(in: String(decoding: pem, as: UTF8.self)) else {
            throw SigningError(.badKey, "\(name): not a PEM \(what)")
        }
        return block
    }

    /// `-----BEGIN LABEL-----`, base64 in lines of 64, `-----END LABEL-----`.
    var text: String {
        let encoded = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(encoded)\n-----END \(label)-----\n"
    }
}
