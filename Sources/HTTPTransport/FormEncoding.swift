import Foundation

/// `application/x-www-form-urlencoded` and query-string encoding.
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// `a=1&b=2`, in the given order (repeated names allowed).
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// `url` with `pairs` appended as its query (after `&` when it has one already).
    public static func url(_ url: String, adding pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return url }
        return url + (url.contains("?") ? "&" : "?") + encode(pairs)
    }
}
