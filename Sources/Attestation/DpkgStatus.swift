/// dpkg's `/var/lib/dpkg/status`: one deb822 stanza per package dpkg knows, installed or not.
enum DpkgStatus {
    /// The installed packages (`Status: … installed`), each with Package, Version and
    /// Architecture; a stanza missing one of them or holding an impossible name is skipped.
    static func packages(_ bytes: [UInt8], source: String) -> [SoftwarePackage] {
        ControlFields.stanzas(bytes).compactMap { stanza in
            guard let stanza,
                  let status = stanza.value("Status"), status.split(separator: " ").last == "installed",
                  let name = stanza.value("Package"), isPackageName(name),
                  let version = stanza.value("Version"), isVersion(version),
                  let architecture = stanza.value("Architecture"), isPackageName(architecture)
            else { return nil }
            return SoftwarePackage(ecosystem: .deb, name: name, version: version, architecture: architecture, source: source)
        }
    }

    /// Debian policy 5.6.1: lower-case letters, digits, `+ - .`; starts with a letter or digit.
    static func isPackageName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 256,
              ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }
    }

    /// Debian policy 5.6.12: `[epoch:]upstream[-revision]` of letters, digits and `. + ~ - :`.
    static func isVersion(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("0"..."9").contains(first), text.utf8.count <= 256 else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".+~-:".unicodeScalars.contains($0)
        }
    }
}
