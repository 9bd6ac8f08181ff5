import ArgumentParser
import CLinux
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

// Before any thread starts (see the C function): a no-change rebuild of a 32k-file context
// made ~760 mprotect calls growing threads' arenas, ~20 ms of system time (issue 13).
_ = swiftdock_tune_allocator()
await CommandLine.runSwiftdock()
