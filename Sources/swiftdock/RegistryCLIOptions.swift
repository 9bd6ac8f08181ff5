import ArgumentParser
import Foundation
import Registry

/// Registry options shared by pull, push and build.
struct RegistryCLIOptions: ParsableArguments {
    @Flag(help: "Talk plain HTTP to every registry (loopback registries always use HTTP).")
    var insecure = false

    @Option(name: .customLong("insecure-registry"), help: "A registry (host[:port]) to reach over plain HTTP; repeatable.")
    var insecureRegistries: [String] = []

    var registryOptions: RegistryOptions {
        RegistryOptions(insecureRegistries: Set(insecureRegistries), insecureAll: insecure)
    }

    /// The client every registry command uses; credentials come from the authenticator.
    func makeClient() -> RegistryClient {
        RegistryClient(options: registryOptions, authenticator: RegistryAuthenticator(environment: registryOptions.environment))
    }
}
