import ArgumentParser
import Foundation
import ImageBuilder
import Registry

/// `--secret id=ID,type=google-token`: an OAuth2 access token minted, once per build, from the
/// Google credentials swiftdock already resolves for Artifact Registry (ADC file, service
/// account key, metadata server, gcloud — `GoogleCredentials`). The one place a build asks for
/// a Google token. Tokens live about an hour: enough for a build, useless in a leaked layer.
enum GoogleTokenSecret {
    static func mint(id: String, client: RegistryClient, environment: [String: String]) async throws -> SecretValue {
        let credentials = GoogleCredentials(environment: environment)
        guard let (token, _) = try await credentials.accessToken(using: client, purpose: "--secret id=\(id),type=google-token") else {
            throw ValidationError("--secret id=\(id),type=google-token: no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, or run on Google Cloud")
        }
        return try SecretValue(Array(token.utf8), id: id)
    }
}
