import ArgumentParser
import Foundation
import Registry

/// `swiftdock login`: checks credentials against a registry, then stores them as docker does.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Log in to a registry (stores credentials in docker's config or its credential helper).", usage: Synopsis.login)

    @Option(name: [.customShort("u"), .long], help: "User name.")
    var username: String?

    @Option(name: [.customShort("p"), .long], help: "Password or token (insecure: prefer --password-stdin).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from stdin.")
    var passwordStdin = false

    @OptionGroup var registry: RegistryCLIOptions

    @Argument(help: "Registry host[:port] (default: Docker Hub).")
    var server: String = "docker.io"

    func validate() throws {
        if password != nil && passwordStdin { throw ValidationError("--password and --password-stdin are mutually exclusive") }
        if passwordStdin && (username ?? "").isEmpty { throw ValidationError("Must provide --username with --password-stdin") }
    }

    func run() async throws {
        let host = RegistryHost.normalize(server)
        if password != nil { printError("WARNING! Using --password via the CLI is insecure. Use --password-stdin.") }
        var user = username ?? ""
        var secret = password ?? ""
        if passwordStdin {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            secret = String(decoding: data, as: UTF8.self)
            while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
        } else if password == nil {
            guard isatty(0) != 0 else { throw LoginError("cannot perform an interactive login from a non-TTY device; use --password-stdin") }
            if user.isEmpty {
                FileHandle.standardError.write(Data("Username: ".utf8))
                user = (readLine() ?? "").trimmingCharacters(in: .whitespaces)
            }
            secret = getpass("Password: ").map { String(cString: $0) } ?? ""
        }
        guard !user.isEmpty else { throw LoginError("a user name is required (-u)") }
        guard !secret.isEmpty else { throw LoginError("a password is required") }

        let credential = RegistryCredential.basic(username: user, password: secret)
        try await withClient(RegistryClient(options: registry.registryOptions, authenticator: AnonymousAuthenticator())) { client in
            try await RegistryLogin.verify(registry: host, credential: credential, using: client)
        }
        let resolver = CredentialResolver()
        let place = try await RegistryLogin.store(credential, for: host, resolver: resolver)
        if case .file(let path) = place {
            printError("WARNING! Your password will be stored unencrypted in \(path).")
            printError("Configure a credential helper to remove this warning (credsStore in \(path)).")
        }
        print("Login Succeeded")
    }
}

/// `swiftdock logout`: removes a registry's stored credentials.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry.", usage: Synopsis.logout)

    @Argument(help: "Registry host[:port] (default: Docker Hub).")
    var server: String = "docker.io"

    func run() async throws {
        let host = RegistryHost.normalize(server)
        let shown = host == "docker.io" ? RegistryHost.dockerHubIndex : host
        let resolver = CredentialResolver()
        if try await RegistryLogin.erase(registry: host, resolver: resolver) {
            print("Removing login credentials for \(shown)")
        } else {
            print("Not logged in to \(shown)")
        }
    }
}

/// A login problem, shown as one line.
struct LoginError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
