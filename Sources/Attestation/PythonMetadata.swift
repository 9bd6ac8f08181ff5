/// Python's core metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`): RFC 822 headers,
/// of which the SBOM needs `Name` and `Version`.
enum PythonMetadata {
    /// The distribution, or nil when the headers lack a valid name or version.
    static func package(_ bytes: [UInt8], source: String) -> SoftwarePackage? {
        guard let headers = ControlFields.stanzas(bytes, headersOnly: true).first, let headers,
              let name = headers.value("Name"), isDistributionName(name),
              let version = headers.value("Version"), isVersion(version) else { return nil }
        return SoftwarePackage(ecosystem: .pypi, name: normalize(name), version: version, source: source)
    }

    /// PEP 503: lower case, every run of `-`, `_`, `.` becomes one `-`.
    static func normalize(_ name: String) -> String {
        var out = ""
        var inRun = false
        for ch in name.lowercased() {
            if ch == "-" || ch == "_" || ch == "." {
                if !inRun { out.append("-") }
                inRun = true
            } else {
                out.append(ch)
                inRun = false
            }
        }
        return out
    }

    /// PEP 508's name: ASCII letters and digits, with `. _ -` inside.
    static func isDistributionName(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, text.utf8.count <= 256,
              isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return scalars.allSatisfy { isAlphanumeric($0) || "._-".unicodeScalars.contains($0) }
    }

    /// Loosely PEP 440 (legacy versions exist in the wild): printable ASCII without spaces.
    static func isVersion(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128 && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f }
    }

    private static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
    }
}
