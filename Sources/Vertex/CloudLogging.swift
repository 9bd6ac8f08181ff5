import Foundation

/// A Cloud Logging entry (`LogEntry`, logging v2): only what `vertex logs` prints.
public struct LogEntry: Codable, Sendable, Equatable {
    public var insertId: String?
    /// RFC 3339, as Cloud Logging writes it.
    public var timestamp: String?
    public var severity: String?
    public var textPayload: String?
    public var jsonPayload: JSONPayload?

    public struct JSONPayload: Codable, Sendable, Equatable {
        public var message: String?
    }

    public init(insertId: String?, timestamp: String?, textPayload: String? = nil, message: String? = nil) {
        self.insertId = insertId
        self.timestamp = timestamp
        self.textPayload = textPayload
        self.jsonPayload = message.map { JSONPayload(message: $0) }
    }

    /// The line a user reads: the text payload, else a structured entry's `message`.
    public var text: String { textPayload ?? jsonPayload?.message ?? "" }
}

/// `entries.list`'s request body (`ListLogEntriesRequest`).
public struct ListLogEntriesRequest: Codable, Sendable, Equatable {
    public var resourceNames: [String]
    public var filter: String
    public var orderBy: String
    public var pageSize: Int?
    public var pageToken: String?
}

/// A Vertex AI job's log in Cloud Logging: the entries of the `ml_job` resource with its ID.
public struct CloudLogging: Sendable {
    public let client: GoogleAPIClient
    public let project: String

    public init(client: GoogleAPIClient, project: String) {
        self.client = client
        self.project = project
    }

    public static let entriesList = "https://logging.googleapis.com/v2/entries:list"

    /// The filter Google's console uses for a CustomJob's log.
    public static func jobFilter(jobID: String) -> String {
        "resource.type=\"ml_job\" AND resource.labels.job_id=\"\(jobID)\""
    }

    /// Every entry matching `filter`, oldest first, all pages.
    public func entries(filter: String, pageSize: Int = 1000) async throws -> [LogEntry] {
        struct Page: Decodable {
            var entries: [LogEntry]?
            var nextPageToken: String?
        }
        return try await GooglePaging.all { token in
            let body = ListLogEntriesRequest(resourceNames: ["projects/\(project)"], filter: filter, orderBy: "timestamp asc",
                                             pageSize: pageSize, pageToken: token)
            let page: Page = try await client.call(.POST, Self.entriesList, body: body, action: "list log entries of projects/\(project)")
            return (page.entries, page.nextPageToken)
        }
    }
}

/// Reads a job's log a piece at a time while it runs: each `next()` returns only the entries
/// not returned before. It asks from the last timestamp seen on (`timestamp>=`), since entries
/// with that same timestamp may still arrive, and drops those already returned by `insertId`.
public struct LogCursor: Sendable {
    public let jobID: String
    var lastTimestamp: String?
    var returnedAtLast: Set<String> = []

    public init(jobID: String) {
        self.jobID = jobID
    }

    public mutating func next(from logging: CloudLogging) async throws -> [LogEntry] {
        var filter = CloudLogging.jobFilter(jobID: jobID)
        if let lastTimestamp { filter += " AND timestamp>=\"\(lastTimestamp)\"" }
        var fresh: [LogEntry] = []
        for entry in try await logging.entries(filter: filter) {
            let key = entry.insertId ?? "\(entry.timestamp ?? "")\u{0}\(entry.text)"
            if entry.timestamp == lastTimestamp {
                if returnedAtLast.contains(key) { continue }
            } else {
                lastTimestamp = entry.timestamp
                returnedAtLast = []
            }
            returnedAtLast.insert(key)
            fresh.append(entry)
        }
        return fresh
    }
}
