import _CryptoExtras
import XCTest
@testable import GoogleAuth
import HTTPTransport
@testable import Registry

final class AuthGoogleTests: XCTestCase {
    func testServiceAccountAssertionIsAVerifiableRS256JWT() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let account = GoogleServiceAccountKey(clientEmail: "builder@proj.iam.gserviceaccount.com", privateKeyID: "kid-1",
                                              privateKeyPEM: key.pkcs8PEMRepresentation, tokenURI: "http://127.0.0.1:9/token")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let jwt = try account.assertion(now: now)
        let parts = jwt.split(separator: ".").map(String.init)
        XCTAssertEqual(parts.count, 3)
        XCTAssertFalse(jwt.contains("=") || jwt.contains("+") || jwt.contains("/"), "base64url without padding")

        let header = try JSONSerialization.jsonObject(with: XCTUnwrap(Base64URL.decode(parts[0]))) as? [String: String]
        XCTAssertEqual(header, ["alg": "RS256", "typ": "JWT", "kid": "kid-1"])
        let claims = try XCTUnwrap(try JSONSerialization.jsonObject(with: XCTUnwrap(Base64URL.decode(parts[1]))) as? [String: Any])
        XCTAssertEqual(claims["iss"] as? String, "builder@proj.iam.gserviceaccount.com")
        XCTAssertEqual(claims["scope"] as? String, "https://www.googleapis.com/auth/cloud-platform")
        XCTAssertEqual(claims["aud"] as? String, "http://127.0.0.1:9/token")
        XCTAssertEqual(claims["iat"] as? Int, 1_800_000_000)
        XCTAssertEqual(claims["exp"] as? Int, 1_800_003_600)

        let signature = _RSA.Signing.RSASignature(rawRepresentation: try XCTUnwrap(Base64URL.decode(parts[2])))
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        XCTAssertTrue(key.publicKey.isValidSignature(signature, for: signed, padding: .insecurePKCS1v1_5))
        XCTAssertFalse(key.publicKey.isValidSignature(signature, for: Data("tampered".utf8), padding: .insecurePKCS1v1_5))
        // PKCS#1 PEM keys are accepted too; a bad key is a one-line error.
        let pkcs1 = GoogleServiceAccountKey(clientEmail: "a@b", privateKeyID: nil, privateKeyPEM: key.pemRepresentation, tokenURI: nil)
        XCTAssertEqual(pkcs1.tokenURI, "https://oauth2.googleapis.com/token")
        XCTAssertNoThrow(try pkcs1.assertion(now: now, lifetime: 7200))
        let longLived = try pkcs1.assertion(now: now, lifetime: 7200).split(separator: ".").map(String.init)
        let longClaims = try JSONSerialization.jsonObject(with: XCTUnwrap(Base64URL.decode(longLived[1]))) as? [String: Any]
        XCTAssertEqual(longClaims?["exp"] as? Int, 1_800_003_600, "exp is at most an hour after iat")
        let bad = GoogleServiceAccountKey(clientEmail: "a@b", privateKeyID: nil, privateKeyPEM: "nope", tokenURI: nil)
        XCTAssertThrowsError(try bad.assertion()) { error in
            XCTAssertEqual((error as? GoogleAuthError)?.message, "service account a@b: private_key is not an RSA PEM key")
        }
    }

    func testServiceAccountFileGrantHonoursTokenURIAndOverride() async throws {
        let dir = try makeTemporaryDirectory(self)
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let file: [String: Any] = ["type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com",
                                   "private_key_id": "k1", "private_key": key.pkcs8PEMRepresentation,
                                   "token_uri": "http://127.0.0.1:8/token"]
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: dir + "/sa.json"))
        let http = FakeHTTP { _ in FakeHTTP.json(["access_token": "ya29.sa", "expires_in": 3599, "token_type": "Bearer"]) }
        for (override, expectedURL) in [(nil, "http://127.0.0.1:8/token"), ("http://127.0.0.1:9/other", "http://127.0.0.1:9/other")] {
            var env = ["HOME": dir, "GOOGLE_APPLICATION_CREDENTIALS": dir + "/sa.json"]
            env["SWIFTDOCK_GOOGLE_TOKEN_URI"] = override
            let google = GoogleCredentials(environment: env)
            let token = try await google.accessToken(using: http)
            XCTAssertEqual(token?.token, "ya29.sa")
            XCTAssertEqual(token?.source, "service account sa@p.iam.gserviceaccount.com")
            let call = try XCTUnwrap(http.calls.last)
            XCTAssertEqual(call.url, expectedURL)
            XCTAssertEqual(call.values("grant_type"), ["urn:ietf:params:oauth:grant-type:jwt-bearer"])
            let assertion = try XCTUnwrap(call.values("assertion").first).split(separator: ".").map(String.init)
            let claims = try JSONSerialization.jsonObject(with: XCTUnwrap(Base64URL.decode(assertion[1]))) as? [String: Any]
            XCTAssertEqual(claims?["aud"] as? String, "http://127.0.0.1:8/token", "aud is the key's token_uri")
            let signature = _RSA.Signing.RSASignature(rawRepresentation: try XCTUnwrap(Base64URL.decode(assertion[2])))
            XCTAssertTrue(key.publicKey.isValidSignature(signature, for: Data((assertion[0] + "." + assertion[1]).utf8),
                                                         padding: .insecurePKCS1v1_5))
        }
    }

    func testGoogleErrorsAreOneLineWithoutSecrets() async throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFile(dir + "/adc.json", #"{"type":"authorized_user","client_id":"c","client_secret":"SECRET","refresh_token":"RT"}"#)
        try writeFile(dir + "/ext.json", #"{"type":"external_account"}"#)
        let refusing = FakeHTTP { _ in FakeHTTP.json(["error": "invalid_grant", "error_description": "Bad Request"], status: 400) }
        let cases: [(String, String)] = [
            (dir + "/adc.json", "Google user credentials \(dir)/adc.json: Google token endpoint oauth2.googleapis.com refused the grant (HTTP 400): invalid_grant: Bad Request"),
            (dir + "/ext.json", "Google credentials \(dir)/ext.json: type \"external_account\" is not supported (use authorized_user or service_account)"),
            (dir + "/missing.json", "GOOGLE_APPLICATION_CREDENTIALS: \(dir)/missing.json does not exist"),
        ]
        for (path, message) in cases {
            let google = GoogleCredentials(environment: ["HOME": dir, "GOOGLE_APPLICATION_CREDENTIALS": path])
            do {
                _ = try await google.accessToken(using: refusing)
                XCTFail("expected an error for \(path)")
            } catch let error as GoogleAuthError {
                XCTAssertEqual(error.kind, .credentials)
                XCTAssertEqual(error.message, message)
                XCTAssertFalse(error.description.contains("SECRET") || error.description.contains("RT&"))
            }
        }
    }

    func testWellKnownFileAndGcloud() async throws {
        let dir = try makeTemporaryDirectory(self)
        // gcloud on PATH as the last resort.
        try writeFile(dir + "/bin/gcloud", "#!/bin/sh\n[ \"$1 $2\" = \"auth print-access-token\" ] && echo ya29.gcloud\n", mode: 0o755)
        let unreachable = FakeHTTP { _ in throw TransportError.unsupportedURL(url: "http://127.0.0.1:7/") }
        let gcloud = GoogleCredentials(environment: ["HOME": dir, "PATH": dir + "/bin", "GCE_METADATA_HOST": "127.0.0.1:7"])
        let fromGcloud = try await gcloud.accessToken(using: unreachable)
        XCTAssertEqual(fromGcloud?.token, "ya29.gcloud")
        XCTAssertEqual(fromGcloud?.source, "gcloud")
        // The well-known ADC file comes before the metadata server and gcloud.
        try writeFile(dir + "/.config/gcloud/application_default_credentials.json",
                      #"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}"#)
        let ok = FakeHTTP { _ in FakeHTTP.json(["access_token": "ya29.adc", "expires_in": 3599]) }
        let adc = GoogleCredentials(environment: ["HOME": dir, "PATH": dir + "/bin"])
        let fromFile = try await adc.accessToken(using: ok)
        XCTAssertEqual(fromFile?.token, "ya29.adc")
        XCTAssertEqual(ok.calls.map(\.url), ["https://oauth2.googleapis.com/token"])
    }
}
