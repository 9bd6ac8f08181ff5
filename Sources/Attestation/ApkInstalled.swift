/// apk's `/lib/apk/db/installed`: one stanza per installed package, one-letter keys
/// (`P:` name, `V:` version, `A:` architecture), stanzas separated by blank lines.
enum ApkInstalled {
    static func packages(_ bytes: [UInt8], source: String) -> [SoftwarePackage] {
        ControlFields.stanzas(bytes).compactMap { stanza in
            guard let stanza,
                  let name = stanza.value("P"), isToken(name),
                  let version = stanza.value("V"), isToken(version) else { return nil }
            let architecture = stanza.value("A").flatMap { isToken($0) ? $0 : nil }
            return SoftwarePackage(ecosystem: .apk, name: name, version: version, architecture: architecture, source: source)
        }
    }

    /// A name or version apk would accept: printable ASCII without spaces or `/`.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256 && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") }
    }
}
