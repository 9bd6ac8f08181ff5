import ArgumentParser
import Foundation
import Registry
import Sandbox

/// `swiftdock run [--rm] [-e K=V] [-w DIR] [-u USER] [--entrypoint E] [--network N] IMAGE [CMD...]`: runs a
/// command in an image's filesystem in the rootless sandbox. Nothing is kept afterwards (there
/// are no containers to list or remove), so `--rm` is accepted and implied.
struct ContainerRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a command in an image (rootless, nothing kept).", usage: Synopsis.run)

    @Flag(help: "Remove the container when it exits (always the case).") var rm = false
    @Flag(name: .customShort("i"), help: "Keep stdin attached (always the case).") var interactive = false
    @Flag(name: .customShort("t"), help: "The command has a terminal: TERM=xterm unless the image or -e sets TERM (docker's rule); the terminal is passed through.") var tty = false
    @Option(name: [.customShort("e"), .long], help: "Set an environment variable (K=V, or K to take it from here); repeatable.")
    var env: [String] = []
    @Option(name: [.customShort("w"), .long], help: "Working directory inside the container.") var workdir: String?
    @Option(name: [.customShort("u"), .long], help: "User (name or uid[:gid]).") var user: String?
    @Option(help: "Override the image's ENTRYPOINT.") var entrypoint: String?
    @Option(help: "Network: bridge (default: a namespace of its own with outbound access, as docker's bridge), host or none.")
    var network: String = "bridge"
    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions
    @Argument(help: "The image.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments (default: the image's CMD).") var command: [String] = []

    func run() async throws {
        let sandboxNetwork = try Self.sandboxNetwork(network)
        // Flags only: what they mean for the process is `ProcessModel`'s (docker's rules). As
        // docker's client does, a bare `-e K` takes this process's K here.
        let host = ProcessInfo.processInfo.environment
        let launch = ImageLaunch(
            image: image,
            command: .image(entrypoint: entrypoint.map { $0.isEmpty ? [] : [$0] }, arguments: command.isEmpty ? nil : command),
            environment: env.map { ProcessEnvironment.resolvingFromHost($0, host: host) },
            workingDirectory: workdir, user: user, terminal: tty, network: sandboxNetwork)
        let status = try await launch.run(store: try store.openStore(), client: registry.makeClient())
        throw ExitCode(status)
    }

    /// docker's `run` puts a container on its `bridge` network unless told otherwise: a network
    /// namespace of its own, its own loopback, outbound connections through NAT, the host's
    /// loopback out of reach. Rootless, slirp4netns gives the same (as podman's rootless
    /// default does), so `bridge` (and `default`, docker's other name for it) is the private
    /// network; where slirp4netns cannot make one, the host's network with a warning, as RUN does.
    static func sandboxNetwork(_ name: String) throws -> SandboxNetwork {
        switch name {
        case "bridge", "default":
            let support = Sandbox.privateNetwork()
            if support.helper != nil { return .private }
            printError("WARNING: the container shares the host's network, its loopback included: \(support.reason ?? "no private network")")
            return .host
        case "host": return .host
        case "none": return .none
        default: throw ValidationError("--network must be bridge, host or none")
        }
    }
}
