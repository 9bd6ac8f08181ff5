// swift-tools-version: 6.1
import PackageDescription

// One module per role; data flows one way:
// DockerfileSyntax, BuildContext ─► ImageBuilder ─► Layers ─► ImageStore ─► Registry ─► Vertex,
// all speaking ImageModel; Registry and Vertex both stand on HTTPTransport and GoogleAuth.
let package = Package(
    name: "swiftdock",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swiftdock", targets: ["swiftdock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // System libraries, reached through small module maps.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        // docker's default seccomp policy for RUN (Sources/CSandbox/seccomp.c).
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        // NaCl secretbox (XSalsa20-Poly1305) for cosign's encrypted private keys.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),

        // Linux calls Swift's Glibc module lacks: xattrs, copy_file_range, FICLONE, syncfs.
        .target(name: "CLinux"),

        // All of a buffer written to a file descriptor, reads retried on EINTR and filled to the
        // end: the loops every module that calls read(2)/write(2) needs, written once (Glibc only).
        .target(name: "FileDescriptorIO"),
        // CCrypto: SHA-256 (OpenSSL's EVP) beside `Digest`, the one place content is hashed.
        .target(name: "ImageModel", dependencies: ["CCrypto", "FileDescriptorIO", "PathEncoding"]),
        // Go's `%q` and JSON string quoting, which BuildKit's errors and `inspect --format` print.
        .target(name: "GoQuoting"),
        .target(name: "DockerfileSyntax", dependencies: ["GoQuoting"]),
        // Waiting for child processes without Foundation's polling `waitUntilExit()`.
        .target(name: "ProcessWaiting"),
        // Blocking work on an OS thread of its own, awaited from async code (`DedicatedThread`):
        // the one way Layers, ImageStore, Sandbox and ImageBuilder keep the cooperative pool free
        // (CLinux to name the thread).
        .target(name: "BlockingWork", dependencies: ["CLinux"]),
        // Go's text/template subset `inspect --format` takes (docker's habits).
        .target(name: "GoTemplate", dependencies: ["GoQuoting"]),
        // File names as the kernel has them (any bytes) carried losslessly in a String.
        .target(name: "PathEncoding"),
        .target(name: "BuildContext", dependencies: ["PathEncoding"]),
        .target(name: "Layers", dependencies: ["BlockingWork", "FileDescriptorIO", "ImageModel", "PathEncoding", "CZlib", "CCrypto", "CArchive", "CISAL", "CLinux"]),
        .target(name: "ImageStore", dependencies: ["BlockingWork", "FileDescriptorIO", "ImageModel", "Layers", "CArchive", "CLinux"]),
        // What an image contains (SBOM): package databases parsed, an SPDX document written.
        .target(name: "Attestation", dependencies: ["FileDescriptorIO", "ImageModel", "Layers"]),
        // The one HTTP stack: AsyncHTTPClient, TLS roots, retries with backoff, redirects, and
        // credentials that reach only their own origin. Registry and Vertex both stand on it.
        .target(name: "HTTPTransport", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Google access tokens: ADC files, service-account JWTs, the metadata server, gcloud; cached.
        .target(name: "GoogleAuth", dependencies: [
            "ImageModel", "HTTPTransport", "ProcessWaiting",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .target(name: "Registry", dependencies: [
            "FileDescriptorIO", "ImageModel", "ImageStore", "HTTPTransport", "GoogleAuth",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // RUN steps: user/mount/PID namespaces over an overlay, set up by a C constructor in the
        // re-executed binary (Sources/CSandbox/helper.c) before Swift's main.
        .target(name: "CSandbox", dependencies: ["CSeccomp"]),
        // The process model (argv, env, user, workdir from an image's config) lives here too, so
        // RUN and `swiftdock run` share it; ImageModel for `ContainerConfig`.
        .target(name: "Sandbox", dependencies: ["BlockingWork", "CSandbox", "FileDescriptorIO", "ImageModel"]),
        .target(name: "ImageBuilder", dependencies: [
            "BlockingWork", "FileDescriptorIO", "ImageModel", "DockerfileSyntax", "GoQuoting", "BuildContext", "Layers", "ImageStore", "Sandbox", "Attestation", "PathEncoding", "ProcessWaiting",
        ]),
        // `swiftdock vertex`: Vertex AI CustomJobs, Workbench instances, Cloud Scheduler.
        .target(name: "Vertex", dependencies: [
            "ImageModel", "HTTPTransport", "GoogleAuth",
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // `swiftdock sign` / `verify`: cosign's signature format (keys, payload, `.sig` tag).
        .target(name: "Signing", dependencies: [
            "ImageModel", "Registry", "CSodium",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .executableTarget(name: "swiftdock", dependencies: [
            "ImageModel", "DockerfileSyntax", "GoTemplate", "ImageBuilder", "ImageStore", "Layers", "HTTPTransport", "Registry",
            "Sandbox", "Signing", "Vertex", "Attestation", "CLinux",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], plugins: ["GitCommitPlugin"]),
        // Writes the git commit into the swiftdock binary at build time (`swiftdock version`).
        .plugin(name: "GitCommitPlugin", capability: .buildTool()),

        // `swift build -c release --product layer-bench`; driven by Benchmarks/layer-writer.sh.
        .executableTarget(name: "layer-bench", dependencies: ["Layers"], path: "Benchmarks/LayerBench"),

        // Helpers shared by the test targets (running real tools and collecting their output).
        .target(name: "TestSupport", dependencies: ["ProcessWaiting"], path: "Tests/TestSupport"),
        // `makeTemporaryDirectory`: scratch directories every test target makes, removed when their
        // test ends (XCTest's observer; apart from TestSupport, which registry-fixtures links).
        .target(name: "TemporaryDirectories", dependencies: ["TestSupport"], path: "Tests/TemporaryDirectories"),

        .testTarget(name: "FileDescriptorIOTests", dependencies: ["FileDescriptorIO"]),
        .testTarget(name: "ImageModelTests", dependencies: ["ImageModel"]),
        .testTarget(name: "DockerfileSyntaxTests", dependencies: ["DockerfileSyntax", "TestSupport"]),
        .testTarget(name: "GoTemplateTests", dependencies: ["GoTemplate"]),
        .testTarget(name: "GoQuotingTests", dependencies: ["GoQuoting"]),
        .testTarget(name: "PathEncodingTests", dependencies: ["PathEncoding"]),
        .testTarget(name: "BuildContextTests", dependencies: ["TemporaryDirectories", "BuildContext", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["TemporaryDirectories", "TestSupport", "Layers", "ImageModel", "CArchive"]),
        .testTarget(name: "ImageStoreTests", dependencies: ["TemporaryDirectories", "TestSupport", "ImageStore", "ImageModel", "Layers", "ProcessWaiting"]),
        .testTarget(name: "ImageBuilderTests", dependencies: ["TemporaryDirectories", "ImageBuilder", "ImageStore", "ImageModel", "Registry", "Sandbox", "ProcessWaiting", "TestSupport"]),
        .testTarget(name: "HTTPTransportTests", dependencies: [
            "HTTPTransport",
            // The error types the transport classifies (TransientErrorsTests).
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "RegistryTests", dependencies: [
            "TemporaryDirectories", // GoogleAuth's tests live here too: they share the fake HTTP of the auth tests.
            "TestSupport", "Registry", "ImageModel", "ImageStore", "Layers", "HTTPTransport", "GoogleAuth", "ProcessWaiting",
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: ["TemporaryDirectories", "TestSupport", "ImageModel", "GoogleAPIStandIn", "ProcessWaiting"]),
        .testTarget(name: "SandboxTests", dependencies: ["TemporaryDirectories", "Sandbox", "ImageModel", "ProcessWaiting"]),
        .testTarget(name: "ProcessWaitingTests", dependencies: ["ProcessWaiting"]),
        .testTarget(name: "BlockingWorkTests", dependencies: ["BlockingWork"]),
        // The CLI's own rules (exit codes by error kind), tested without running the binary.
        .testTarget(name: "swiftdockTests", dependencies: ["swiftdock", "Sandbox", "ImageModel"]),
        .testTarget(name: "AttestationTests", dependencies: ["Attestation", "Layers", "TestSupport"]),
        .testTarget(name: "SigningTests", dependencies: ["Signing", "ImageModel", "TestSupport"]),
        .testTarget(name: "VertexTests", dependencies: ["TemporaryDirectories", "TestSupport", "Vertex", "GoogleAuth", "ImageModel", "GoogleAPIStandIn"]),

        // In-process loopback stand-in of the Google APIs `swiftdock vertex` calls (OAuth2 token,
        // Vertex AI CustomJobs, Workbench instances, Cloud Scheduler), every request body checked
        // against Google's discovery schemas (Fixtures/gcp-reference); also the JWT and OAuth
        // grant checks registry-fixtures shares.
        .target(name: "GoogleAPIStandIn", dependencies: [
            "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], path: "Tests/GoogleAPIStandIn"),
        .testTarget(name: "GoogleAPIStandInTests", dependencies: [
            "TemporaryDirectories", "GoogleAPIStandIn", "TestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),

        // Loopback stand-ins the tests start: a registry token server (RS256 JWTs), Google's
        // OAuth token endpoint and metadata server, and a proxy that corrupts blobs.
        .executableTarget(name: "registry-fixtures", dependencies: [
            "GoogleAPIStandIn",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], path: "Tests/RegistryFixtures"),
    ],
    // Every module builds in Swift 6 language mode (issue 12 item 7): full data-race checking.
    swiftLanguageModes: [.v6]
)

