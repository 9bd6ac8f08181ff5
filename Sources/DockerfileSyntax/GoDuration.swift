// Go's `time.ParseDuration` (`300ms`, `-1.5h`, `2h45m`), for HEALTHCHECK flags.

import GoQuoting

public enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("\u{00B5}s", 1e3), ("\u{03BC}s", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Nanoseconds, or a message in Go's wording (`time: invalid duration "x"`).
    public static func parse(_ text: String) throws -> Int64 {
        let quoted = goQuoted(text)
        var s = Substring(text)
        var negative = false
        if let sign = s.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            s = s.dropFirst()
        }
        if s == "0" { return 0 }
        guard !s.isEmpty else { throw FlagError("time: invalid duration \(quoted)") }
        var total = 0.0
        while !s.isEmpty {
            let whole = s.prefix(while: { $0.isASCII && $0.isNumber })
            s = s.dropFirst(whole.count)
            var fraction = Substring("")
            if s.first == "." {
                s = s.dropFirst()
                fraction = s.prefix(while: { $0.isASCII && $0.isNumber })
                s = s.dropFirst(fraction.count)
            }
            if whole.isEmpty && fraction.isEmpty { throw FlagError("time: invalid duration \(quoted)") }
            let unitText = s.prefix(while: { !($0.isASCII && ($0.isNumber || $0 == ".")) })
            s = s.dropFirst(unitText.count)
            if unitText.isEmpty { throw FlagError("time: missing unit in duration \(quoted)") }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else {
                throw FlagError("time: unknown unit \(goQuoted(String(unitText))) in duration \(quoted)")
            }
            let number = Double("\(whole.isEmpty ? "0" : String(whole)).\(fraction.isEmpty ? "0" : String(fraction))") ?? 0
            total += number * unit
            if total > Double(Int64.max) { throw FlagError("time: invalid duration \(quoted)") }
        }
        let nanoseconds = Int64(total.rounded(.towardZero))
        return negative ? -nanoseconds : nanoseconds
    }
}
