// swift-tools-version: 6.1
import PackageDescription

// One module per role; data flows one way:
// DockerfileSyntax, BuildContext ─► ImageBuilder ─► Layers ─► ImageStore, all speaking ImageModel.
let package = Package(
    name: "swiftdock",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swiftdock", targets: ["swiftdock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, reached through small module maps.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),

        .target(name: "ImageModel"),
        .target(name: "DockerfileSyntax"),
        .target(name: "BuildContext"),
        .target(name: "Layers", dependencies: ["ImageModel", "CZlib", "CCrypto", "CArchive", "CISAL"]),
        .target(name: "ImageStore", dependencies: ["ImageModel", "Layers", "CArchive"]),
        .target(name: "ImageBuilder", dependencies: [
            "ImageModel", "DockerfileSyntax", "BuildContext", "Layers", "ImageStore",
        ]),
        .executableTarget(name: "swiftdock", dependencies: [
            "ImageModel", "DockerfileSyntax", "ImageBuilder", "ImageStore", "Layers",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // `swift build -c release --product layer-bench`; driven by Benchmarks/layer-writer.sh.
        .executableTarget(name: "layer-bench", dependencies: ["Layers"], path: "Benchmarks/LayerBench"),

        .testTarget(name: "ImageModelTests", dependencies: ["ImageModel"]),
        .testTarget(name: "DockerfileSyntaxTests", dependencies: ["DockerfileSyntax"]),
        .testTarget(name: "BuildContextTests", dependencies: ["BuildContext"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "ImageModel", "CArchive"]),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore", "ImageModel", "Layers"]),
        .testTarget(name: "ImageBuilderTests", dependencies: ["ImageBuilder", "ImageStore", "ImageModel"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ImageModel"]),
    ],
    swiftLanguageModes: [.v5]
)
