/// unix-cron schedules as Cloud Scheduler takes them: five fields (minute, hour, day of month,
/// month, day of week), each `*`, a number, a range, a list, a step, or a month/day name.
/// Checked before any request so a typo fails at once.
public enum CronSchedule {
    static let fields: [(name: String, range: ClosedRange<Int>, names: [String])] = [
        ("minute", 0...59, []),
        ("hour", 0...23, []),
        ("day of month", 1...31, []),
        ("month", 1...12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        ("day of week", 0...7, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ]

    public static func check(_ schedule: String) throws {
        let parts = schedule.split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 5 else {
            throw VertexError(.usage, "--cron \"\(schedule)\": expected 5 fields (minute hour day-of-month month day-of-week), got \(parts.count)")
        }
        for (part, field) in zip(parts, fields) {
            for item in part.split(separator: ",", omittingEmptySubsequences: false) {
                guard valid(String(item), field.range, field.names) else {
                    throw VertexError(.usage, "--cron \"\(schedule)\": \"\(part)\" is not a valid \(field.name) (\(field.range.lowerBound)-\(field.range.upperBound))")
                }
            }
        }
    }

    /// One list item: `*`, `V`, `A-B`, each optionally `/STEP`.
    static func valid(_ item: String, _ range: ClosedRange<Int>, _ names: [String]) -> Bool {
        let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count) else { return false }
        if pieces.count == 2 {
            guard let step = Int(pieces[1]), step > 0 else { return false }
        }
        let base = pieces[0]
        if base == "*" { return true }
        let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count) else { return false }
        let values = bounds.map { value($0.lowercased(), range, names) }
        guard values.allSatisfy({ $0 != nil }) else { return false }
        return values.count == 1 || values[0]! <= values[1]!
    }

    static func value(_ text: String, _ range: ClosedRange<Int>, _ names: [String]) -> Int? {
        if let number = Int(text), range.contains(number) { return number }
        if let index = names.firstIndex(of: text) { return range.lowerBound + index }
        return nil
    }
}
