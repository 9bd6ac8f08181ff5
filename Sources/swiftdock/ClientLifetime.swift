import Registry
import Vertex

/// A client that holds connections until it is shut down: the registry's and Google's.
protocol ShutDownClient: Sendable {
    func shutdown() async
}

extension RegistryClient: ShutDownClient {}
extension GoogleAPIClient: ShutDownClient {}

/// Runs `body` with `client` and shuts the client down afterwards, whatever happens. Swift has
/// no async `defer`, so without this each command wrote the same do/catch around its calls.
func withClient<Client: ShutDownClient, T>(_ client: Client, _ body: (Client) async throws -> T) async throws -> T {
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}
