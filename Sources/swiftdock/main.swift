import ArgumentParser
import Foundation

/// `swiftdock`: build, store and push OCI images without a daemon or root.
struct Swiftdock: AsyncParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "swiftdock",
        abstract: "Build, store and push OCI images without a daemon or root.",
        version: VersionCommand.oneLine,
        subcommands: [BuildCommand.self, PullCommand.self, PushCommand.self, ImagesCommand.self, TagCommand.self, RmiCommand.self,
                      InspectCommand.self, SaveCommand.self, SignCommand.self, VerifyCommand.self,
                      ContainerRunCommand.self, LoginCommand.self, LogoutCommand.self, SystemCommand.self, VertexCommand.self,
                      VersionCommand.self])
}

await CommandLine.runSwiftdock()
