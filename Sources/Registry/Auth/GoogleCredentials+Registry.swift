import GoogleAuth
import HTTPTransport

extension GoogleCredentials {
    /// Google's access token as the registry code asks for it: failures are `RegistryError`s
    /// of the same kind naming `purpose` (the registry), the `GoogleAuthError` kept as the
    /// cause. (Also the signature callers used before GoogleAuth was a module of its own.)
    public func accessToken(using http: HTTPFetching, purpose: String) async throws -> (token: String, source: String)? {
        do {
            return try await accessToken(using: http)
        } catch let error as GoogleAuthError {
            throw RegistryError(error.kind == .transport ? .transport : .credentials, registry: purpose, error.message,
                                underlying: error)
        }
    }
}
