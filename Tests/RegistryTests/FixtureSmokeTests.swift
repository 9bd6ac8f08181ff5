import Foundation
import TestSupport
import XCTest

/// Proves the loopback fixtures of `scripts/registries.sh` with independent clients (curl,
/// skopeo, openssl, jq) before the registry client is tested against them.
///
/// Skipped unless `SWIFTDOCK_TEST_REGISTRY_OPEN` is set, i.e. unless the script's env file was
/// exported into the test environment.
final class FixtureSmokeTests: XCTestCase {
    /// An OCI layout with one small image (`smoke:latest`, one layer), made once per run.
    /// `nonisolated(unsafe)`: safe, XCTest runs a class's set-up, tests and tear-down one after
    /// another on one thread.
    nonisolated(unsafe) private static var layout: String?

    private var env: [String: String] { ProcessInfo.processInfo.environment }

    override func setUpWithError() throws {
        guard let open = env["SWIFTDOCK_TEST_REGISTRY_OPEN"], !open.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is unset: run scripts/registries.sh start DIR and export DIR/env")
        }
        if Self.layout == nil {
            let dir = FileManager.default.temporaryDirectory
                .appendingPathComponent("fixture-smoke-\(ProcessInfo.processInfo.processIdentifier)").path
            try sh("""
                rm -rf '\(dir)' && mkdir -p '\(dir)' && cd '\(dir)'
                printf 'fixture smoke layer\\n' > hello.txt
                umoci init --layout oci && umoci new --image oci:latest
                umoci insert --rootless --image oci:latest hello.txt /hello.txt
                """)
            Self.layout = dir + "/oci"
        }
    }

    override class func tearDown() {
        if let layout {
            try? FileManager.default.removeItem(atPath: (layout as NSString).deletingLastPathComponent)
            self.layout = nil
        }
        super.tearDown()
    }

    // MARK: - Helpers

    private func value(_ name: String) throws -> String {
        try XCTUnwrap(env[name], "\(name) is unset")
    }

    /// Runs a bash snippet with the test environment; returns its exit status and output.
    private func run(_ script: String) throws -> (status: Int32, out: String, err: String) {
        let result = try runChildProcess("/bin/bash", ["-c", "set -o pipefail\n" + script])
        return (result.status, result.stdoutText, result.stderrText)
    }

    /// Runs a bash snippet that must succeed; returns its trimmed standard output.
    @discardableResult
    private func sh(_ script: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try run(script)
        XCTAssertEqual(result.status, 0, "\(script)\n\(result.err)", file: file, line: line)
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The `WWW-Authenticate` header of `GET http://REGISTRY/v2/`, and its status.
    private func challenge(_ registry: String) throws -> (status: String, header: String) {
        let status = try sh("curl -s -o /dev/null -w '%{http_code}' http://\(registry)/v2/")
        let header = try sh("curl -s -D - -o /dev/null http://\(registry)/v2/ | tr -d '\\r' | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p'")
        return (status, header)
    }

    /// `skopeo copy` of the smoke image to `registry/repository:1`; returns skopeo's exit status.
    private func push(to registry: String, _ repository: String, creds: String?) throws -> (status: Int32, err: String) {
        let layout = try XCTUnwrap(Self.layout)
        let credsFlag = creds.map { "--dest-creds '\($0)'" } ?? ""
        let result = try run("skopeo copy --retry-times 0 --dest-tls-verify=false \(credsFlag) oci:\(layout):latest docker://\(registry)/\(repository):1")
        return (result.status, result.err)
    }

    private func assertPushes(to registry: String, _ repository: String, creds: String?,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try push(to: registry, repository, creds: creds)
        XCTAssertEqual(result.status, 0, result.err, file: file, line: line)
    }

    /// A Google access token from the stand-in, by the `authorized_user` refresh-token grant.
    private func googleTokenFromADC() throws -> String {
        try sh("""
            adc="$SWIFTDOCK_TEST_ADC_USER"
            curl -sf -X POST "$SWIFTDOCK_TEST_GOOGLE_TOKEN_URI" -d grant_type=refresh_token \
              --data-urlencode "client_id=$(jq -r .client_id "$adc")" \
              --data-urlencode "client_secret=$(jq -r .client_secret "$adc")" \
              --data-urlencode "refresh_token=$(jq -r .refresh_token "$adc")" | jq -er .access_token
            """)
    }

    /// A shell function printing an RS256 assertion signed by the service-account key;
    /// `$1` is appended to the signature (to break it), `$2` overrides `aud`.
    private let assertionFunction = #"""
        b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
        assertion() {
          local key="$SWIFTDOCK_TEST_SA_KEY" now; now=$(date +%s)
          local aud=${2:-$(jq -r .token_uri "$key")}
          local h c s pem; pem=$(mktemp)
          jq -r .private_key "$key" >"$pem"
          h=$(jq -cn --arg kid "$(jq -r .private_key_id "$key")" '{alg: "RS256", typ: "JWT", kid: $kid}' | b64u)
          c=$(jq -cn --arg iss "$(jq -r .client_email "$key")" --arg aud "$aud" --argjson now "$now" \
            '{iss: $iss, aud: $aud, scope: "https://www.googleapis.com/auth/cloud-platform", iat: $now, exp: ($now + 3600)}' | b64u)
          s=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$pem" -binary | b64u)
          rm -f "$pem"
          printf '%s.%s.%s%s' "$h" "$c" "$s" "${1:-}"
        }
        """#

    // MARK: - Registries

    func testOpenRegistryTakesAnonymousPush() throws {
        let registry = try value("SWIFTDOCK_TEST_REGISTRY_OPEN")
        XCTAssertEqual(try challenge(registry).status, "200")
        try assertPushes(to: registry, "smoke/open", creds: nil)
    }

    func testHtpasswdRegistryNeedsThePassword() throws {
        let registry = try value("SWIFTDOCK_TEST_REGISTRY_HTPASSWD")
        let (status, header) = try challenge(registry)
        XCTAssertEqual(status, "401")
        XCTAssertTrue(header.hasPrefix("Basic realm="), header)
        try assertPushes(to: registry, "smoke/htpasswd", creds: "tester:s3cret")
        XCTAssertNotEqual(try push(to: registry, "smoke/htpasswd", creds: "tester:wrong").status, 0)
        XCTAssertNotEqual(try push(to: registry, "smoke/htpasswd", creds: nil).status, 0)
    }

    func testTokenRegistryChallengeNamesTheService() throws {
        let registry = try value("SWIFTDOCK_TEST_REGISTRY_TOKEN")
        let server = try value("SWIFTDOCK_TEST_TOKEN_SERVER")
        let (status, header) = try challenge(registry)
        XCTAssertEqual(status, "401")
        XCTAssertEqual(header, "Bearer realm=\"\(server)/token\",service=\"swiftdock-registry\"")
        try assertPushes(to: registry, "smoke/token", creds: "tester:s3cret")
        XCTAssertNotEqual(try push(to: registry, "smoke/token", creds: "tester:wrong").status, 0)
    }

    func testArtifactRegistryStyleChallengeOmitsService() throws {
        let registry = try value("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR")
        let server = try value("SWIFTDOCK_TEST_TOKEN_SERVER_AR")
        let (status, header) = try challenge(registry)
        XCTAssertEqual(status, "401")
        XCTAssertEqual(header, "Bearer realm=\"\(server)/v2/token\"")
        // Its token server answers access_token only, and needs no service parameter.
        let keys = try sh("curl -sf -u tester:s3cret '\(server)/v2/token?scope=repository:smoke/ar:pull' | jq -c 'keys'")
        XCTAssertEqual(keys, #"["access_token","expires_in","issued_at"]"#)
        try assertPushes(to: registry, "smoke/ar", creds: "tester:s3cret")
        XCTAssertNotEqual(try push(to: registry, "smoke/ar", creds: "tester:wrong").status, 0)
    }

    /// The Artifact-Registry-style fixture's upload rules, seen with curl: a POST without
    /// Content-Length is 411; a chunked upload (PATCH with Content-Range, a second PATCH, a
    /// last chunk in the closing PUT) is refused; one PATCH of unknown length (chunked transfer
    /// encoding) then `PUT ?digest=` — `docker push`'s way — and a monolithic PUT both work.
    func testArtifactRegistryStyleUploadRules() throws {
        let registry = try value("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR")
        let server = try value("SWIFTDOCK_TEST_TOKEN_SERVER_AR")
        let repository = "smoke/ar-upload-\(UUID().uuidString.prefix(8).lowercased())"
        let codes = try sh("""
            tok=$(curl -sf -u tester:s3cret '\(server)/v2/token?scope=repository:\(repository):pull,push' | jq -r .access_token)
            H="Authorization: Bearer $tok"; up='http://\(registry)/v2/\(repository)/blobs/uploads/'
            T='Content-Type: application/octet-stream'
            code() { curl -s -o /dev/null -w '%{http_code}' -H "$H" -H "$T" "$@"; }
            location() { curl -s -D - -o /dev/null -H "$H" -H "$T" "$@" | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p'; }
            query() { case "$1" in *\\?*) echo "$1&digest=$2";; *) echo "$1?digest=$2";; esac; }
            cd "$(mktemp -d)"; printf 'streamed layer' > blob; d=sha256:$(sha256sum blob | cut -d' ' -f1)
            echo "post-without-length $(code -X POST "$up")"
            s=$(location -X POST --data-binary '' "$up"); echo "patch-with-range $(code -X PATCH -H 'Content-Range: 0-13' --data-binary @blob "$s")"
            s=$(location -X POST --data-binary '' "$up")
            s2=$(location -X PATCH -H 'Transfer-Encoding: chunked' --data-binary @blob "$s"); [ -n "$s2" ] && echo "one-chunked-patch 202"
            echo "second-patch $(code -X PATCH -H 'Transfer-Encoding: chunked' --data-binary @blob "$s2")"
            echo "put-last-chunk $(code -X PUT --data-binary @blob "$(query "$s2" "$d")")"
            echo "put-digest $(code -X PUT --data-binary '' "$(query "$s2" "$d")")"
            printf 'monolithic layer' > blob2; d2=sha256:$(sha256sum blob2 | cut -d' ' -f1)
            s=$(location -X POST --data-binary '' "$up"); echo "monolithic-put $(code -X PUT --data-binary @blob2 "$(query "$s" "$d2")")"
            echo "stored $(code -I "http://\(registry)/v2/\(repository)/blobs/$d") $(code -I "http://\(registry)/v2/\(repository)/blobs/$d2")"
            rm -f blob blob2; rmdir "$PWD"
            """)
        XCTAssertEqual(codes.split(separator: "\n").map(String.init), [
            "post-without-length 411", "patch-with-range 400", "one-chunked-patch 202", "second-patch 400",
            "put-last-chunk 400", "put-digest 201", "monolithic-put 201", "stored 200 200",
        ])
    }

    // MARK: - Token server

    func testTokenServerAnswersDockerShapeAndRefusesWrongPassword() throws {
        let server = try value("SWIFTDOCK_TEST_TOKEN_SERVER")
        let url = "\(server)/token?service=swiftdock-registry&scope=repository:smoke/token:pull,push"
        let keys = try sh("curl -sf -u tester:s3cret '\(url)' | jq -c 'keys'")
        XCTAssertEqual(keys, #"["access_token","expires_in","issued_at","token"]"#)
        let claims = try sh("""
            curl -sf -u tester:s3cret '\(url)' | jq -r .token | cut -d. -f2 | tr '_-' '/+' \
              | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d \
              | jq -c '[.iss, .sub, .aud, .access]'
            """)
        XCTAssertEqual(claims, #"["swiftdock-fixtures","tester","swiftdock-registry",[{"actions":["pull","push"],"name":"smoke/token","type":"repository"}]]"#)
        XCTAssertEqual(try sh("curl -s -o /dev/null -w '%{http_code}' -u tester:wrong '\(url)'"), "401")
    }

    func testTokenServerOAuth2PasswordAndRefreshGrants() throws {
        let server = try value("SWIFTDOCK_TEST_TOKEN_SERVER")
        let common = "-d service=swiftdock-registry -d client_id=smoke --data-urlencode scope=repository:smoke/token:pull"
        let refresh = try sh("""
            curl -sf -X POST '\(server)/token' -d grant_type=password -d username=tester -d password=s3cret \
              -d access_type=offline \(common) | jq -er .refresh_token
            """)
        let keys = try sh("curl -sf -X POST '\(server)/token' -d grant_type=refresh_token -d refresh_token='\(refresh)' \(common) | jq -c keys")
        XCTAssertEqual(keys, #"["access_token","expires_in","issued_at","refresh_token","scope"]"#)
        XCTAssertEqual(try sh("curl -s -o /dev/null -w '%{http_code}' -X POST '\(server)/token' -d grant_type=refresh_token -d refresh_token=bogus \(common)"), "400")
        XCTAssertEqual(try sh("curl -s -o /dev/null -w '%{http_code}' -X POST '\(server)/token' -d grant_type=password -d username=tester -d password=wrong \(common)"), "401")
    }

    // MARK: - Google stand-ins

    func testGoogleRefreshTokenIsAcceptedAsRegistryPassword() throws {
        let token = try googleTokenFromADC()
        XCTAssertTrue(token.hasPrefix("ya29."), token)
        try assertPushes(to: try value("SWIFTDOCK_TEST_REGISTRY_TOKEN"), "smoke/google", creds: "oauth2accesstoken:\(token)")
        try assertPushes(to: try value("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR"), "smoke/google", creds: "oauth2accesstoken:\(token)")
        XCTAssertNotEqual(try push(to: try value("SWIFTDOCK_TEST_REGISTRY_TOKEN"), "smoke/google",
                                   creds: "oauth2accesstoken:ya29.not-minted").status, 0)
        let wrongClient = try sh("curl -s -o /dev/null -w '%{http_code}' -X POST \"$SWIFTDOCK_TEST_GOOGLE_TOKEN_URI\" -d grant_type=refresh_token -d client_id=x -d client_secret=y -d refresh_token=z")
        XCTAssertEqual(wrongClient, "401")
    }

    func testGoogleServiceAccountAssertion() throws {
        let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        let body = try sh("""
            \(assertionFunction)
            curl -sf -X POST "$SWIFTDOCK_TEST_GOOGLE_TOKEN_URI" -d grant_type=\(grant) -d "assertion=$(assertion)" \
              | jq -c '[(.access_token | startswith("ya29.")), .expires_in, .token_type]'
            """)
        XCTAssertEqual(body, #"[true,3599,"Bearer"]"#)
        let token = try sh("""
            \(assertionFunction)
            curl -sf -X POST "$SWIFTDOCK_TEST_GOOGLE_TOKEN_URI" -d grant_type=\(grant) -d "assertion=$(assertion)" | jq -er .access_token
            """)
        try assertPushes(to: try value("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR"), "smoke/sa", creds: "oauth2accesstoken:\(token)")
        for (suffix, aud) in [("AAAA", ""), ("", "https://oauth2.googleapis.com/token")] {
            let refused = try sh("""
                \(assertionFunction)
                curl -s -X POST "$SWIFTDOCK_TEST_GOOGLE_TOKEN_URI" -d grant_type=\(grant) -d "assertion=$(assertion '\(suffix)' '\(aud)')" \
                  -w ' %{http_code}' | sed 's/.*"error":"\\([a-z_]*\\)".* /\\1 /'
                """)
            XCTAssertEqual(refused, "invalid_grant 400")
        }
    }

    func testMetadataServerNeedsTheFlavorHeader() throws {
        let host = try value("GCE_METADATA_HOST")
        let url = "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token"
        XCTAssertEqual(try sh("curl -s -o /dev/null -w '%{http_code}' '\(url)'"), "403")
        let token = try sh("curl -sf -H 'Metadata-Flavor: Google' '\(url)' | jq -er .access_token")
        let server = try value("SWIFTDOCK_TEST_TOKEN_SERVER")
        let status = try sh("curl -s -o /dev/null -w '%{http_code}' -u 'oauth2accesstoken:\(token)' '\(server)/token?service=swiftdock-registry&scope=repository:smoke/md:pull'")
        XCTAssertEqual(status, "200")
    }

    // MARK: - Corrupting proxy

    func testCorruptingProxyFlipsABlobByte() throws {
        let open = try value("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let corrupt = try value("SWIFTDOCK_TEST_REGISTRY_CORRUPT")
        try assertPushes(to: open, "smoke/corrupt", creds: nil)
        let digest = try sh("""
            curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://\(open)/v2/smoke/corrupt/manifests/1 \
              | jq -er '.layers[0].digest'
            """)
        let direct = try sh("curl -sf http://\(open)/v2/smoke/corrupt/blobs/\(digest) | sha256sum | cut -d' ' -f1")
        XCTAssertEqual("sha256:" + direct, digest)
        let proxied = try sh("curl -sf http://\(corrupt)/v2/smoke/corrupt/blobs/\(digest) | sha256sum | cut -d' ' -f1")
        XCTAssertNotEqual("sha256:" + proxied, digest)
        let lengths = try sh("""
            curl -sf -o /dev/null -w '%{size_download} ' http://\(open)/v2/smoke/corrupt/blobs/\(digest)
            curl -sf -D - -o /dev/null http://\(corrupt)/v2/smoke/corrupt/blobs/\(digest) | tr -d '\\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p'
            """)
        let parts = lengths.split(separator: " ")
        XCTAssertEqual(parts.count, 2, lengths)
        XCTAssertEqual(parts.first, parts.last, "Content-Length must be kept")
        // Manifests pass through untouched.
        XCTAssertEqual(try sh("curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://\(corrupt)/v2/smoke/corrupt/manifests/1 | jq -er '.layers[0].digest'"), digest)
    }
}
