import ArgumentParser

struct Swiftdock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftdock",
        abstract: "Build, store and push OCI images without a daemon.",
        version: "0.1.0")
}

Swiftdock.main()
