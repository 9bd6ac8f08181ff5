import Foundation

/// An SPDX 2.3 document (JSON serialisation) describing one image: a package for the image,
/// which the document DESCRIBES and which CONTAINS one package per installed package found.
/// Only fields SPDX 2.3 requires or scanners read are written; everything is derived from the
/// image, so the same image gives the same bytes (the namespace names the manifest digest).
public struct SPDXDocument: Encodable, Sendable {
    public struct CreationInfo: Encodable, Sendable {
        var created: String
        var creators: [String]
    }

    public struct ExternalRef: Encodable, Sendable {
        var referenceCategory = "PACKAGE-MANAGER"
        var referenceType = "purl"
        var referenceLocator: String
    }

    public struct Package: Encodable, Sendable {
        var SPDXID: String
        var name: String
        var versionInfo: String
        var downloadLocation = "NOASSERTION"
        var filesAnalyzed = false
        var supplier: String?
        var sourceInfo: String?
        var primaryPackagePurpose: String?
        var externalRefs: [ExternalRef]?
    }

    public struct Relationship: Encodable, Sendable {
        var spdxElementId: String
        var relationshipType: String
        var relatedSpdxElement: String
    }

    public var spdxVersion = "SPDX-2.3"
    public var dataLicense = "CC0-1.0"
    public var SPDXID = "SPDXRef-DOCUMENT"
    public var name: String
    public var documentNamespace: String
    public var creationInfo: CreationInfo
    public var packages: [Package]
    public var relationships: [Relationship]

    public static let mediaType = "application/spdx+json"

    /// The document for the image `imageName` (its tag, or its digest when untagged) whose
    /// manifest digest is `manifestDigest` (`sha256:…`), holding `found`, created at `created`.
    public init(imageName: String, manifestDigest: String, packages found: [SoftwarePackage], created: Date,
                creator: String = "Tool: swiftdock") {
        name = imageName
        documentNamespace = "https://swiftdock.invalid/spdx/" + manifestDigest.replacingOccurrences(of: ":", with: "-")
        creationInfo = CreationInfo(created: DocumentTimestamp.string(created), creators: [creator])
        let image = Package(SPDXID: "SPDXRef-Image", name: imageName, versionInfo: manifestDigest,
                            primaryPackagePurpose: "CONTAINER")
        packages = [image]
        relationships = [Relationship(spdxElementId: SPDXID, relationshipType: "DESCRIBES", relatedSpdxElement: image.SPDXID)]
        var seen = Set<String>()
        for package in found.sorted(by: SPDXDocument.order) where seen.insert(package.purl).inserted {
            let id = "SPDXRef-Package-\(package.ecosystem.rawValue)-\(packages.count)-" + SPDXDocument.idSafe(package.name)
            packages.append(Package(SPDXID: id, name: package.name, versionInfo: package.version,
                                    sourceInfo: "acquired package info from \(package.source)",
                                    primaryPackagePurpose: package.ecosystem == .pypi ? "LIBRARY" : "APPLICATION",
                                    externalRefs: [ExternalRef(referenceLocator: package.purl)]))
            relationships.append(Relationship(spdxElementId: image.SPDXID, relationshipType: "CONTAINS", relatedSpdxElement: id))
        }
    }

    /// The document as JSON, keys sorted (stable bytes for the same image).
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// SPDX identifiers allow letters, digits, `.` and `-` only.
    static func idSafe(_ text: String) -> String {
        String(text.unicodeScalars.map { s -> Character in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "-" ? Character(s) : "-"
        })
    }

    private static func order(_ a: SoftwarePackage, _ b: SoftwarePackage) -> Bool {
        (a.ecosystem.rawValue, a.name, a.version, a.source) < (b.ecosystem.rawValue, b.name, b.version, b.source)
    }
}
