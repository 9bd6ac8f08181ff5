import Foundation

/// HTTP's date format (`Retry-After`, `Last-Modified`).
public enum HTTPDate {
    /// RFC 9110 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`); nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
