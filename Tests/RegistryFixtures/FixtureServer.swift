import Foundation
import Hummingbird

/// Starts every role the options ask for, each on its own loopback port, and runs until killed.
struct FixtureServer {
    let options: FixtureOptions

    func run() async throws {
        let credentials = try CredentialStore(usersFile: options.statePath("users"))
        var services: [@Sendable () async throws -> Void] = []

        if options.tokenPort != nil || options.artifactRegistryTokenPort != nil {
            let issuer = try RegistryTokenIssuer(
                keyPath: options.statePath("token.key"), certificatePath: options.statePath("token.crt"),
                keyIdentification: options.keyIdentification, issuer: options.issuer)
            for (port, style) in [(options.tokenPort, RegistryTokenServer.Style.dockerHub),
                                  (options.artifactRegistryTokenPort, .artifactRegistry)] {
                guard let port else { continue }
                let server = RegistryTokenServer(style: style, issuer: issuer, credentials: credentials,
                                                 defaultAudience: options.defaultAudience)
                let app = Application(router: server.router(), configuration: Self.configuration(port))
                services.append { try await app.run() }
            }
        }
        if let port = options.googlePort {
            let google = try GoogleStandIn(options: options, credentials: credentials)
            let app = Application(router: google.router(), configuration: Self.configuration(port))
            services.append { try await app.run() }
        }
        for spec in options.proxies {
            let app = Application(responder: RegistryProxy(spec: spec).responder(),
                                  configuration: Self.configuration(spec.listenPort))
            services.append { try await app.run() }
        }
        guard !services.isEmpty else { throw UsageError(message: "no role asked for (give at least one port)") }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask(operation: service) }
            // Any role stopping (a port already taken, say) ends the whole process.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Loopback only: these servers must never listen elsewhere.
    static func configuration(_ port: Int) -> ApplicationConfiguration {
        ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: "registry-fixtures")
    }
}
