import HTTPTransport

/// One request's registry credentials as the transport sees them: bound to the registry's
/// origin (`https://registry-1.docker.io:443` for `docker.io`), answered from the
/// authenticator's cache or by its answer to the registry's challenge.
struct RegistryCredentials: OriginCredentials {
    /// Strong, but only for the life of one request: the client outlives its requests.
    let client: RegistryClient
    let registry: String
    let scopes: [AuthScope]

    var origin: Origin? { Origin(url: client.options.baseURL(for: registry)) }

    func cachedAuthorization() async -> String? {
        await client.authenticator.cachedAuthorization(registry: registry, scopes: scopes)
    }

    func authorize(challenge: String) async throws -> String {
        try await client.authenticator.authorize(registry: registry, challenge: challenge, scopes: scopes, using: client)
    }

    func invalidate() async {
        await client.authenticator.invalidate(registry: registry, scopes: scopes)
    }
}
