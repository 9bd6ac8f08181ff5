import Crypto
import _CryptoExtras
import Foundation

/// The Google identities the stand-in accepts: a service account whose key it generated, and an
/// `authorized_user` (what `gcloud auth application-default login` writes). Write either as a file
/// and point `GOOGLE_APPLICATION_CREDENTIALS` at it.
public struct StandInCredentials: Sendable {
    /// Google's token endpoint: the key file's `token_uri` and the `aud` assertions must carry,
    /// whatever `SWIFTDOCK_GOOGLE_API_BASE` says.
    public static let tokenURI = "https://oauth2.googleapis.com/token"
    /// The scope every assertion must ask for.
    public static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

    /// One key for every stand-in of a test process: generating a 2048-bit RSA key takes a while.
    private static let sharedKey: _RSA.Signing.PrivateKey = {
        do { return try _RSA.Signing.PrivateKey(keySize: .bits2048) } catch { fatalError("RSA key generation failed: \(error)") }
    }()

    public let projectID: String
    public let serviceAccountEmail: String
    public let privateKeyID: String
    /// The service account's key; its public half checks assertions.
    public let privateKey: _RSA.Signing.PrivateKey
    public let authorizedUser: OAuthGrantVerifier.AuthorizedUser

    public init(projectID: String = "swiftdock-test", serviceAccountName: String = "runner") {
        self.projectID = projectID
        self.serviceAccountEmail = "\(serviceAccountName)@\(projectID).iam.gserviceaccount.com"
        self.privateKeyID = Self.hex(20)
        self.privateKey = Self.sharedKey
        self.authorizedUser = .init(clientID: "\(Self.hex(6))-standin.apps.googleusercontent.com",
                                    clientSecret: "GOCSPX-\(Self.hex(12))", refreshToken: "1//\(Self.hex(24))")
    }

    /// The service-account key file, as the Cloud console downloads it.
    public var serviceAccountKey: JSONValue {
        [
            "type": "service_account", "project_id": .string(projectID), "private_key_id": .string(privateKeyID),
            "private_key": .string(privateKey.pkcs8PEMRepresentation), "client_email": .string(serviceAccountEmail),
            "client_id": "104242424242424242424", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": .string(Self.tokenURI), "universe_domain": "googleapis.com",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        ]
    }

    /// The `authorized_user` ADC file (no `token_uri`, as gcloud writes it).
    public var authorizedUserFile: JSONValue {
        [
            "type": "authorized_user", "client_id": .string(authorizedUser.clientID),
            "client_secret": .string(authorizedUser.clientSecret), "refresh_token": .string(authorizedUser.refreshToken),
            "quota_project_id": .string(projectID),
        ]
    }

    /// Writes `serviceAccountKey` to `path` (mode 0600, as key files should be).
    public func writeServiceAccountKey(to path: String) throws {
        try Self.write(serviceAccountKey, to: path)
    }

    /// Writes `authorizedUserFile` to `path` (mode 0600).
    public func writeAuthorizedUser(to path: String) throws {
        try Self.write(authorizedUserFile, to: path)
    }

    /// The grant checks of the token endpoint: assertions must be for `tokenURI` and the
    /// cloud-platform scope.
    var verifier: OAuthGrantVerifier {
        OAuthGrantVerifier(
            authorizedUser: authorizedUser,
            serviceAccount: .init(email: serviceAccountEmail, audience: Self.tokenURI, publicKey: privateKey.publicKey,
                                  requiredScope: Self.cloudPlatformScope))
    }

    private static func write(_ value: JSONValue, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: value.data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    static func hex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
