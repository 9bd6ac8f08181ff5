import Foundation

/// The canonical URLs of the Google APIs swiftdock calls. These are what request bodies carry
/// (a Scheduler job's target); `GoogleAPIBase` decides where a request actually goes.
public enum GoogleEndpoints {
    /// Vertex AI must be called on its regional host.
    public static func aiplatform(region: String) -> String {
        "https://\(region)-aiplatform.googleapis.com/v1"
    }

    /// `projects/P/locations/L`: the parent of a region's or zone's resources, as resource
    /// names and errors spell it.
    public static func place(project: String, location: String) -> String {
        "projects/\(project)/locations/\(location)"
    }

    /// `POST` here creates a CustomJob.
    public static func customJobs(project: String, region: String) -> String {
        "\(aiplatform(region: region))/\(place(project: project, location: region))/customJobs"
    }

    public static let notebooks = "https://notebooks.googleapis.com/v2"

    /// Workbench instances live in a zone.
    public static func instances(project: String, zone: String) -> String {
        "\(notebooks)/\(place(project: project, location: zone))/instances"
    }

    public static let cloudScheduler = "https://cloudscheduler.googleapis.com/v1"

    public static func schedulerJobs(project: String, region: String) -> String {
        "\(cloudScheduler)/\(place(project: project, location: region))/jobs"
    }

    public static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
}

/// Query-string escaping for Google API parameters (filters, page tokens).
enum GoogleQuery {
    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}
