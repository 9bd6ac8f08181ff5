import Foundation
import Hummingbird

/// `application/x-www-form-urlencoded` bodies, as OAuth token endpoints take them.
public enum FormEncoding {
    /// The fields of a form body (`a=1&b=x+y`); `+` is a space, `%XX` is decoded, the last value of
    /// a repeated name wins.
    public static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func unescape(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            fields[unescape(kv[0])] = kv.count > 1 ? unescape(kv[1]) : ""
        }
        return fields
    }

    /// The fields of a request's form body (at most 1 MiB is read).
    public static func fields(of request: Request) async throws -> [String: String] {
        decode(String(buffer: try await request.body.collect(upTo: 1 << 20)))
    }
}
