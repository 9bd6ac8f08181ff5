/// The package databases and metadata files an SBOM reads, and how to read each: dpkg's
/// status file, apk's installed database, and Python distributions' core metadata under
/// site-packages / dist-packages.
public enum PackageDatabases {
    /// A file kind the SBOM understands.
    public enum Kind: Sendable, Equatable {
        case dpkgStatus, apkInstalled, pythonMetadata
    }

    /// The most bytes read from one such file: a Debian image with thousands of packages has a
    /// status file of a few MiB; anything far beyond is hostile and skipped.
    public static let sizeLimit: Int64 = 64 << 20

    /// What `path` (a layer path, no leading `/`) is, or nil when the SBOM ignores it.
    public static func kind(of path: String) -> Kind? {
        if path == "var/lib/dpkg/status" { return .dpkgStatus }
        if path == "lib/apk/db/installed" { return .apkInstalled }
        let parts = path.split(separator: "/")
        guard parts.count >= 2,
              parts.dropLast().contains(where: { $0 == "site-packages" || $0 == "dist-packages" }) else { return nil }
        let last = parts[parts.count - 1]
        let parent = parts[parts.count - 2]
        if last == "METADATA" && parent.hasSuffix(".dist-info") { return .pythonMetadata }
        if last == "PKG-INFO" && parent.hasSuffix(".egg-info") { return .pythonMetadata }
        // setuptools also writes a single file `NAME.egg-info` holding PKG-INFO.
        if last.hasSuffix(".egg-info") && (parent == "site-packages" || parent == "dist-packages") { return .pythonMetadata }
        return nil
    }

    /// The packages the file `path` of kind `kind` records; malformed entries are skipped.
    public static func packages(in bytes: [UInt8], kind: Kind, path: String) -> [SoftwarePackage] {
        switch kind {
        case .dpkgStatus: return DpkgStatus.packages(bytes, source: path)
        case .apkInstalled: return ApkInstalled.packages(bytes, source: path)
        case .pythonMetadata: return PythonMetadata.package(bytes, source: path).map { [$0] } ?? []
        }
    }
}
