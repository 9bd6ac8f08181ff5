import ArgumentParser
import ImageModel

/// `swiftdock version`: the version and the git commit the binary was built from (`gitCommit`
/// is generated at build time by GitCommitPlugin), as `docker version` shows its client.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the version and the git commit it was built from.", usage: Synopsis.version)

    /// `swiftdock --version`, worded as `docker --version`.
    static var oneLine: String { "swiftdock version \(Swiftdock.version), build \(gitCommit)" }

    func run() {
        print("Version:    \(Swiftdock.version)")
        print("Git commit: \(gitCommit)")
        print("OS/Arch:    \(Platform.host)")
    }
}
