import Foundation

/// Docker's `units.HumanSizeWithPrecision(size, 3)`: SI units, three significant digits.
func formatSize(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"]
    var value = Double(bytes)
    var i = 0
    while value >= 1000 && i < units.count - 1 {
        value /= 1000
        i += 1
    }
    var text = String(format: "%.3g", value)
    if text.contains("e") { text = String(format: "%.0f", value) }
    return text + units[i]
}

/// Docker's `units.HumanDuration` + " ago", as in the CREATED column.
func formatSince(_ date: Date, now: Date = Date()) -> String {
    let seconds = Int(now.timeIntervalSince(date))
    let text: String
    switch seconds {
    case ..<1: text = "Less than a second"
    case 1: text = "1 second"
    case ..<60: text = "\(seconds) seconds"
    case ..<120: text = "About a minute"
    case ..<3600: text = "\(seconds / 60) minutes"
    case ..<7200: text = "About an hour"
    case ..<(48 * 3600): text = "\(seconds / 3600) hours"
    case ..<(7 * 24 * 3600 * 2): text = "\(seconds / 86400) days"
    case ..<(30 * 24 * 3600 * 3): text = "\(seconds / (7 * 86400)) weeks"
    case ..<(365 * 24 * 3600 * 2): text = "\(seconds / (30 * 86400)) months"
    default: text = "\(seconds / (365 * 86400)) years"
    }
    return text + " ago"
}

/// Left-aligned columns separated by three spaces, as docker's tabwriter output looks.
func formatTable(_ rows: [[String]]) -> String {
    guard let width = rows.map(\.count).max() else { return "" }
    var widths = [Int](repeating: 0, count: width)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    return rows.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0)
        }.joined()
    }.joined(separator: "\n")
}
