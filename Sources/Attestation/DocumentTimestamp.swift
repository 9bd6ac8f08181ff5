import Foundation

/// The times SPDX documents and SLSA provenance carry: RFC 3339 in UTC to the whole second
/// (`2026-01-02T03:04:05Z`), as BuildKit's attestations write them.
enum DocumentTimestamp {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
