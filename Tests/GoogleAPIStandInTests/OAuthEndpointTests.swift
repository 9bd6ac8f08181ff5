import _CryptoExtras
import Foundation
import GoogleAPIStandIn
import TemporaryDirectories
import XCTest

final class OAuthEndpointTests: StandInTestCase {
    /// An assertion as google-auth writes one, from the key file the stand-in wrote; `change` edits
    /// the claims before signing.
    private func assertion(key: _RSA.Signing.PrivateKey? = nil, _ change: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let dir = try temporaryDirectory()
        try google.credentials.writeServiceAccountKey(to: dir + "/sa.json")
        let file = try XCTUnwrap(JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dir + "/sa.json"))))
        let pem = try XCTUnwrap(file["private_key"]?.stringValue)
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = [
            "iss": file["client_email"]?.stringValue ?? "", "aud": file["token_uri"]?.stringValue ?? "",
            "scope": "https://www.googleapis.com/auth/cloud-platform", "iat": now, "exp": now + 3600,
        ]
        change(&claims)
        let signingKey = try key ?? _RSA.Signing.PrivateKey(pemRepresentation: pem)
        return try JWT(header: ["kid": file["private_key_id"]?.stringValue ?? ""], claims: claims).signed(with: signingKey)
    }

    private func temporaryDirectory() throws -> String {
        try makeTemporaryDirectory("standin")
    }

    func testKeyFilesCarryTheRealTokenURIAndTheGeneratedKey() throws {
        let dir = try temporaryDirectory()
        try google.credentials.writeServiceAccountKey(to: dir + "/sa.json")
        try google.credentials.writeAuthorizedUser(to: dir + "/adc.json")
        let sa = try XCTUnwrap(JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dir + "/sa.json"))))
        XCTAssertEqual(sa["type"], "service_account")
        XCTAssertEqual(sa["token_uri"], "https://oauth2.googleapis.com/token", "the base override must not be in the key file")
        XCTAssertEqual(sa["client_email"]?.stringValue, google.credentials.serviceAccountEmail)
        XCTAssertEqual(sa["project_id"]?.stringValue, google.credentials.projectID)
        XCTAssertEqual(sa["private_key_id"]?.stringValue, google.credentials.privateKeyID)
        XCTAssertTrue(sa["private_key"]?.stringValue?.hasPrefix("-----BEGIN PRIVATE KEY-----") ?? false, "PKCS#8 PEM")
        let adc = try XCTUnwrap(JSONValue(data: Data(contentsOf: URL(fileURLWithPath: dir + "/adc.json"))))
        XCTAssertEqual(adc["type"], "authorized_user")
        XCTAssertEqual(adc["refresh_token"]?.stringValue, google.credentials.authorizedUser.refreshToken)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/sa.json")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
    }

    func testGrants() async throws {
        let user = google.credentials.authorizedUser
        let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        let now = Int(Date().timeIntervalSince1970)
        // (what, form, status, error, description substring)
        let cases: [(String, [String: String], Int, String?, String?)] = [
            ("service account", ["grant_type": jwtBearer, "assertion": try assertion()], 200, nil, nil),
            ("several scopes", ["grant_type": jwtBearer, "assertion": try assertion {
                $0["scope"] = "https://www.googleapis.com/auth/devstorage.read_only https://www.googleapis.com/auth/cloud-platform"
            }], 200, nil, nil),
            ("authorized user", ["grant_type": "refresh_token", "client_id": user.clientID, "client_secret": user.clientSecret,
                                 "refresh_token": user.refreshToken], 200, nil, nil),
            ("other key", ["grant_type": jwtBearer, "assertion": try assertion(key: otherKey)], 400, "invalid_grant", "Invalid JWT Signature"),
            ("aud is the override", ["grant_type": jwtBearer, "assertion": try assertion { $0["aud"] = self.google.baseURL + "/token" }],
             400, "invalid_grant", "aud must be https://oauth2.googleapis.com/token"),
            ("other issuer", ["grant_type": jwtBearer, "assertion": try assertion { $0["iss"] = "x@y.iam.gserviceaccount.com" }],
             400, "invalid_grant", "iss"),
            ("no cloud-platform", ["grant_type": jwtBearer, "assertion": try assertion {
                $0["scope"] = "https://www.googleapis.com/auth/devstorage.read_only"
            }], 400, "invalid_grant", "scope must include https://www.googleapis.com/auth/cloud-platform"),
            ("expired", ["grant_type": jwtBearer, "assertion": try assertion { $0["iat"] = now - 7200; $0["exp"] = now - 3600 }],
             400, "invalid_grant", "short-lived"),
            ("two hours", ["grant_type": jwtBearer, "assertion": try assertion { $0["exp"] = now + 7200 }], 400, "invalid_grant", "short-lived"),
            ("no assertion", ["grant_type": jwtBearer], 400, "invalid_grant", "assertion"),
            ("not a JWT", ["grant_type": jwtBearer, "assertion": "a.b.c"], 400, "invalid_grant", "Invalid JWT Signature"),
            ("wrong client secret", ["grant_type": "refresh_token", "client_id": user.clientID, "client_secret": "nope",
                                     "refresh_token": user.refreshToken], 401, "invalid_client", nil),
            ("wrong refresh token", ["grant_type": "refresh_token", "client_id": user.clientID, "client_secret": user.clientSecret,
                                     "refresh_token": "1//nope"], 400, "invalid_grant", nil),
            ("password grant", ["grant_type": "password"], 400, "unsupported_grant_type", nil),
        ]
        for (what, form, status, error, description) in cases {
            let answer = try await call(.POST, "/token", form: form, anonymous: true)
            XCTAssertEqual(answer.status, status, "\(what): \(answer.text)")
            if let error {
                XCTAssertEqual(answer.json["error"]?.stringValue, error, what)
                if let description {
                    XCTAssertTrue(answer.json["error_description"]?.stringValue?.contains(description) ?? false, "\(what): \(answer.text)")
                }
                continue
            }
            XCTAssertEqual(answer.json["token_type"], "Bearer", what)
            XCTAssertEqual(answer.json["expires_in"], 3599, what)
            let minted = try XCTUnwrap(answer.json["access_token"]?.stringValue, what)
            let listed = try await call(.GET, Self.customJobsPath, bearer: minted)
            XCTAssertEqual(listed.status, 200, "\(what): the minted token opens the APIs: \(listed.text)")
        }
        let grantees = await google.grantees
        XCTAssertEqual(grantees.dropFirst(), [.serviceAccount(google.credentials.serviceAccountEmail),
                                              .serviceAccount(google.credentials.serviceAccountEmail),
                                              .authorizedUser(user.clientID)], "the first was minted by setUp")
    }

    func testAPIsWantAMintedUnexpiredToken() async throws {
        let paths = [Self.customJobsPath, Self.instancesPath, Self.schedulerJobsPath,
                     "/v2/projects/\(Self.project)/locations/\(Self.zone)/operations/operation-1"]
        for path in paths {
            assertGoogleError(try await call(.GET, path, anonymous: true), 401, "UNAUTHENTICATED",
                              contains: "Request had invalid authentication credentials")
            assertGoogleError(try await call(.GET, path, bearer: "ya29.not-minted-here"), 401, "UNAUTHENTICATED")
            let basic = try await call(.GET, path, anonymous: true, headers: ["Authorization": "Basic dXNlcjpwYXNz"])
            assertGoogleError(basic, 401, "UNAUTHENTICATED")
        }
        let withToken = try await call(.GET, Self.customJobsPath).status
        XCTAssertEqual(withToken, 200)
        await google.revokeAccessTokens()
        assertGoogleError(try await call(.GET, Self.customJobsPath), 401, "UNAUTHENTICATED")
    }
}
