import Foundation

/// Where Google's discovery documents and `gcp_validate.py` are found for the schema check.
///
/// `locate()` prefers, in order:
/// 1. `$SWIFTDOCK_GCP_REFERENCE`: a folder laid out like the vendored copy (the script beside the
///    documents) or like `shared/` (`tools/gcp_validate.py` and `reference/gcp/`);
/// 2. `<repository>/../shared`, the team's reference folder, when it exists;
/// 3. `<repository>/Fixtures/gcp-reference`, the vendored copy a fresh clone has.
public struct GCPReference: Sendable, Equatable {
    /// Which of the three places was chosen.
    public enum Origin: String, Sendable {
        case environment, shared, vendored
    }

    /// The discovery documents the stand-in checks bodies against, and the oneof table beside them.
    public static let documentNames = [
        "aiplatform.v1.customjob.json", "notebooks.v2.json", "cloudscheduler.v1.json", "logging.v2.entries.json", "oneofs.json",
    ]
    /// The validator script's file name.
    public static let validatorName = "gcp_validate.py"
    /// The environment variable that overrides the search.
    public static let environmentVariable = "SWIFTDOCK_GCP_REFERENCE"

    public var origin: Origin
    /// `gcp_validate.py`.
    public var validator: URL
    /// The folder holding the discovery documents and `oneofs.json`.
    public var documents: URL

    public init(origin: Origin, validator: URL, documents: URL) {
        self.origin = origin
        self.validator = validator
        self.documents = documents
    }

    /// The path of one discovery document, e.g. `notebooks.v2.json`.
    public func document(_ name: String) -> URL { documents.appendingPathComponent(name) }

    /// The reference to use; throws when `$SWIFTDOCK_GCP_REFERENCE` is set but holds neither layout,
    /// or when not even the vendored copy is complete.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GCPReference {
        if let override = environment[environmentVariable], !override.isEmpty {
            let root = URL(fileURLWithPath: override)
            if let found = flat(root, origin: .environment) ?? sharedLayout(root, origin: .environment) { return found }
            throw StandInError(message: "\(environmentVariable)=\(override) holds neither \(validatorName) beside "
                + documentNames.joined(separator: ", ") + " nor tools/\(validatorName) and reference/gcp/")
        }
        if let found = sharedLayout(sharedDirectory, origin: .shared) { return found }
        if let found = flat(vendoredDirectory, origin: .vendored) { return found }
        throw StandInError(message: "\(vendoredDirectory.path) is incomplete: expected \(validatorName) and "
            + documentNames.joined(separator: ", "))
    }

    /// The repository this file was compiled from (the folder holding `Package.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<repository>/../shared`.
    public static var sharedDirectory: URL {
        repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// `<repository>/Fixtures/gcp-reference`.
    public static var vendoredDirectory: URL {
        repositoryRoot.appendingPathComponent("Fixtures/gcp-reference")
    }

    /// The script beside the documents, as in `Fixtures/gcp-reference`.
    private static func flat(_ root: URL, origin: Origin) -> GCPReference? {
        complete(GCPReference(origin: origin, validator: root.appendingPathComponent(validatorName), documents: root))
    }

    /// `tools/gcp_validate.py` and `reference/gcp/…`, as in `shared/`.
    private static func sharedLayout(_ root: URL, origin: Origin) -> GCPReference? {
        complete(GCPReference(origin: origin, validator: root.appendingPathComponent("tools/\(validatorName)"),
                              documents: root.appendingPathComponent("reference/gcp")))
    }

    private static func complete(_ reference: GCPReference) -> GCPReference? {
        let paths = [reference.validator.path] + documentNames.map { reference.document($0).path }
        return paths.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? reference : nil
    }
}
