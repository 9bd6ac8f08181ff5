/// One installed package an SBOM lists: which package manager knows it, its name, version and
/// architecture, and the file that recorded it (so a reader can check the claim).
public struct SoftwarePackage: Hashable, Sendable {
    public enum Ecosystem: String, Hashable, Sendable {
        case deb, apk, pypi
    }

    public var ecosystem: Ecosystem
    public var name: String
    public var version: String
    /// The architecture the package manager records (none for Python distributions).
    public var architecture: String?
    /// The layer path of the database or metadata file it was read from.
    public var source: String

    public init(ecosystem: Ecosystem, name: String, version: String, architecture: String? = nil, source: String) {
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.architecture = architecture
        self.source = source
    }

    /// The package URL (purl spec) that vulnerability scanners match on:
    /// `pkg:deb/debian/NAME@VERSION?arch=ARCH`, `pkg:apk/alpine/NAME@VERSION?arch=ARCH`,
    /// `pkg:pypi/NAME@VERSION`.
    public var purl: String {
        let namespace: String
        switch ecosystem {
        case .deb: namespace = "deb/debian/"
        case .apk: namespace = "apk/alpine/"
        case .pypi: namespace = "pypi/"
        }
        var text = "pkg:" + namespace + PackageURL.encode(name) + "@" + PackageURL.encode(version)
        if let architecture { text += "?arch=" + PackageURL.encode(architecture) }
        return text
    }
}

/// Percent-encoding of purl components. Hand-written: Foundation's URL encoders follow RFC 3986
/// character sets that differ from the purl spec's. The spec keeps unreserved characters and
/// `:` (Debian epochs, `1:2.3-4`) and encodes everything else, `+` included, as here.
enum PackageURL {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
