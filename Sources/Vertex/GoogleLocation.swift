/// Google Cloud regions and zones, checked before any request so that a typo or a zone given
/// where a region is needed fails at once with a message saying which is which.
public enum GoogleLocation {
    /// Regions with a Vertex AI endpoint (`REGION-aiplatform.googleapis.com`), from the
    /// `endpoints` of aiplatform's v1 discovery document (revision 20261106).
    public static let vertexRegions: Set<String> = [
        "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
        "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2", "asia-southeast3",
        "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1", "europe-north2",
        "europe-southwest1", "europe-west1", "europe-west10", "europe-west12", "europe-west15", "europe-west2",
        "europe-west3", "europe-west4", "europe-west6", "europe-west8", "europe-west9", "me-central1",
        "me-central2", "me-west1", "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1",
        "southamerica-west1", "us-central1", "us-central2", "us-east1", "us-east4", "us-east5", "us-east7",
        "us-south1", "us-west1", "us-west2", "us-west3", "us-west4", "us-west8",
    ]

    /// `region` when it is a known Vertex AI region; otherwise a usage error that says what
    /// it is instead (a zone, a multi-region, or unknown).
    public static func region(_ region: String, flag: String = "--region") throws -> String {
        if vertexRegions.contains(region) { return region }
        if let zone = try? splitZone(region) {
            throw VertexError(.usage, "\(flag) \(region) is a zone; give its region, \(zone.region)")
        }
        if region == "us" || region == "eu" || region == "global" {
            throw VertexError(.usage, "\(flag) \(region) is a multi-region; Vertex AI jobs need a region such as europe-west3")
        }
        throw VertexError(.usage, "\(flag) \(region): unknown Vertex AI region (for example europe-west3 or us-central1)")
    }

    /// `zone` when it is a zone (`REGION-LETTER`) of a known region; otherwise a usage error.
    public static func zone(_ zone: String, flag: String = "--zone") throws -> String {
        if vertexRegions.contains(zone) {
            throw VertexError(.usage, "\(flag) \(zone) is a region; Workbench instances need a zone such as \(zone)-a")
        }
        _ = try splitZone(zone, flag: flag)
        return zone
    }

    /// A zone's region and letter.
    static func splitZone(_ zone: String, flag: String = "--zone") throws -> (region: String, letter: Character) {
        guard let dash = zone.lastIndex(of: "-"), zone.index(after: dash) != zone.endIndex else {
            throw VertexError(.usage, "\(flag) \(zone): not a zone (for example europe-west3-a)")
        }
        let region = String(zone[..<dash])
        let suffix = zone[zone.index(after: dash)...]
        guard suffix.count == 1, let letter = suffix.first, letter >= "a", letter <= "z" else {
            throw VertexError(.usage, "\(flag) \(zone): not a zone (for example europe-west3-a)")
        }
        guard vertexRegions.contains(region) else {
            throw VertexError(.usage, "\(flag) \(zone): unknown region \(region) (for example europe-west3-a)")
        }
        return (region, letter)
    }

    /// A project ID as Google allows it: 6–30 characters, lowercase letters, digits and
    /// hyphens, starting with a letter, not ending with a hyphen. Domain-scoped IDs
    /// (`example.com:project`) pass too.
    public static func project(_ project: String) throws -> String {
        let id = project.split(separator: ":", maxSplits: 1).last.map(String.init) ?? project
        let allowed = id.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        guard (6...30).contains(id.count), allowed, id.first!.isLetter, id.last != "-" else {
            throw VertexError(.usage, "--project \(project): not a Google Cloud project ID (6-30 lowercase letters, digits, hyphens)")
        }
        return project
    }
}
