import Foundation

/// A command line the fixtures cannot run with.
struct UsageError: Error {
    var message: String
}

/// What `registry-fixtures serve` is asked to run, parsed by hand from the command line.
///
/// Every role is optional and gets its own loopback port; all roles live in one process so the
/// Google stand-in and the registry token server share the access tokens the former mints.
struct FixtureOptions {
    /// The directory `scripts/registries.sh` generated: keys, certificate, user lists.
    var stateDirectory: String
    /// Registry token server answering `{"token", "access_token", …}` (Docker Hub style).
    var tokenPort: Int?
    /// Registry token server answering `{"access_token", …}` only (Artifact Registry style).
    var artifactRegistryTokenPort: Int?
    /// Google OAuth2 token endpoint and GCE metadata server.
    var googlePort: Int?
    /// Reverse proxies in front of upstream registries.
    var proxies: [ProxySpec] = []
    /// How registry JWTs name their signing key: `x5c` (certificate chain) or `libtrust` (`kid`).
    var keyIdentification: JWTKeyIdentification = .x5c
    /// `iss` of the registry tokens; must equal `auth.token.issuer` in the registry config.
    var issuer = "swiftdock-fixtures"
    /// `aud` for Artifact Registry style requests, which carry no `service` parameter.
    var defaultAudience = "swiftdock-ar"

    static let usage = """
        usage: registry-fixtures serve --state DIR [--token-port P] [--ar-token-port P]
                                       [--google-port P] [--proxy LISTEN:UPSTREAM_HOST:UPSTREAM_PORT:MODE]...
                                       [--jwt-key-id x5c|libtrust] [--issuer NAME] [--default-audience NAME]
          MODE is corrupt-blobs (flip one byte of every blob body), strip-service
          (drop service= from Bearer challenges), referrers-api (add the OCI 1.1 referrers API) or
          no-chunked-bodies (answer 411 to a PUT/PATCH body sent without Content-Length).
          STATE must hold token.key, token.crt, users, sa.pub.pem, sa-key.json, adc-user.json
          (those of the roles asked for).
        """

    static func parse(_ arguments: [String]) throws -> FixtureOptions {
        guard arguments.first == "serve" else { throw UsageError(message: "expected the subcommand `serve`") }
        var state: String?
        var options = FixtureOptions(stateDirectory: "")
        var rest = arguments.dropFirst()[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw UsageError(message: "\(flag) needs a value") }
            return next
        }
        func port(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let port = Int(text), (1...65535).contains(port) else {
                throw UsageError(message: "\(flag): not a port: \(text)")
            }
            return port
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--state": state = try value(flag)
            case "--token-port": options.tokenPort = try port(flag)
            case "--ar-token-port": options.artifactRegistryTokenPort = try port(flag)
            case "--google-port": options.googlePort = try port(flag)
            case "--proxy": options.proxies.append(try ProxySpec(parsing: try value(flag)))
            case "--issuer": options.issuer = try value(flag)
            case "--default-audience": options.defaultAudience = try value(flag)
            case "--jwt-key-id":
                let text = try value(flag)
                guard let mode = JWTKeyIdentification(rawValue: text) else {
                    throw UsageError(message: "--jwt-key-id: expected x5c or libtrust, got \(text)")
                }
                options.keyIdentification = mode
            default: throw UsageError(message: "unknown argument \(flag)")
            }
        }
        guard let state else { throw UsageError(message: "--state DIR is required") }
        options.stateDirectory = state
        return options
    }

    /// A file inside the state directory.
    func statePath(_ name: String) -> String {
        (stateDirectory as NSString).appendingPathComponent(name)
    }
}

/// One `--proxy LISTEN:HOST:PORT:MODE` argument.
struct ProxySpec {
    enum Mode: String {
        /// Flip one byte in the body of every `GET /v2/…/blobs/…` response.
        case corruptBlobs = "corrupt-blobs"
        /// Remove `service="…"` from `WWW-Authenticate: Bearer` challenges.
        case stripService = "strip-service"
        /// `strip-service`, and Artifact Registry's upload rules (`ArtifactRegistryUploads`).
        case artifactRegistry = "artifact-registry"
        /// Answer the OCI 1.1 referrers API and `OCI-Subject` (`ReferrersAPI`).
        case referrersAPI = "referrers-api"
        /// Refuse request bodies of unknown length (chunked transfer encoding) with 411.
        case noChunkedBodies = "no-chunked-bodies"
    }
    var listenPort: Int
    var upstreamHost: String
    var upstreamPort: Int
    var mode: Mode

    init(parsing text: String) throws {
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count == 4, let listen = Int(parts[0]), let upstream = Int(parts[2]),
              let mode = Mode(rawValue: parts[3]) else {
            throw UsageError(message: "--proxy: expected LISTEN:UPSTREAM_HOST:UPSTREAM_PORT:MODE, got \(text)")
        }
        guard parts[1].hasPrefix("127.") || parts[1] == "localhost" else {
            throw UsageError(message: "--proxy: upstream must be a loopback address, got \(parts[1])")
        }
        self.listenPort = listen
        self.upstreamHost = parts[1]
        self.upstreamPort = upstream
        self.mode = mode
    }
}
