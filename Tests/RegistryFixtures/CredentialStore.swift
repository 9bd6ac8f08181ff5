import Foundation

/// Who may ask for registry tokens, and the tokens this process handed out.
///
/// Shared by every role: the Google stand-in records the access tokens it mints here, and the
/// registry token server accepts them as the password of `oauth2accesstoken`, as Artifact
/// Registry accepts Google tokens given to `docker login`.
actor CredentialStore {
    /// The user name under which Google access tokens are presented.
    static let googleTokenUser = "oauth2accesstoken"

    private let passwords: [String: String]
    private var googleAccessTokens: [String: Date] = [:]
    private var refreshTokens: [String: String] = [:]

    /// Reads `user:password` lines; blank lines and `#` comments are skipped.
    init(usersFile path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var passwords: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let colon = trimmed.firstIndex(of: ":") else { continue }
            passwords[String(trimmed[..<colon])] = String(trimmed[trimmed.index(after: colon)...])
        }
        self.passwords = passwords
    }

    /// True when `password` is `user`'s, or `user` is `oauth2accesstoken` and `password` an
    /// unexpired Google access token minted by this process.
    func authenticate(user: String, password: String) -> Bool {
        if user == Self.googleTokenUser {
            guard let expiry = googleAccessTokens[password] else { return false }
            return expiry > Date()
        }
        return passwords[user].map { $0 == password } ?? false
    }

    /// A new opaque Google-style access token (`ya29.` prefix) valid for `lifetime` seconds.
    func mintGoogleAccessToken(lifetime: TimeInterval) -> String {
        let token = "ya29.fixture-" + Self.randomToken()
        googleAccessTokens[token] = Date().addingTimeInterval(lifetime)
        return token
    }

    /// A new registry refresh token (docker's identity token) for `subject`.
    func issueRefreshToken(for subject: String) -> String {
        let token = "rt-" + Self.randomToken()
        refreshTokens[token] = subject
        return token
    }

    /// The subject a refresh token was issued to, or nil when this process never issued it.
    func subject(forRefreshToken token: String) -> String? {
        refreshTokens[token]
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
