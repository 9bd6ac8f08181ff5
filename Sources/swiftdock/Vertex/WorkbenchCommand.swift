import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Vertex

/// `swiftdock vertex workbench create|start|stop|delete|describe`: Workbench (notebooks v2)
/// instances running a custom container.
struct WorkbenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench", abstract: "Manage Vertex AI Workbench instances that run your image.",
        subcommands: [WorkbenchCreateCommand.self, WorkbenchStartCommand.self, WorkbenchStopCommand.self,
                      WorkbenchDeleteCommand.self, WorkbenchDescribeCommand.self])
}

/// `--project` and `--zone`: Workbench instances live in a zone.
struct ZoneOptions: ParsableArguments {
    @OptionGroup var project: ProjectOption

    @Option(help: "Zone, for example europe-west3-a.")
    var zone: String

    func workbench(_ client: GoogleAPIClient) throws -> Workbench {
        let (project, zone) = try resolved()
        return Workbench(client: client, project: project, zone: zone)
    }

    func resolved() throws -> (project: String, zone: String) {
        (try project.resolved(), try usage { try GoogleLocation.zone(zone) })
    }
}

/// The instance a `vertex workbench` subcommand acts on: NAME, `--project` and `--zone`.
struct WorkbenchTarget: ParsableArguments {
    @Argument(help: "Instance name.") var name: String
    @OptionGroup var location: ZoneOptions

    /// Runs `body` with the zone's Workbench once the flags and NAME are checked (mistakes exit
    /// 125 before anything is sent).
    func with<T>(_ body: (Workbench) async throws -> T) async throws -> T {
        _ = try location.resolved()
        try usage { try WorkbenchCreateRequest.checkName(name) }
        return try await withGoogleAPI { client in try await body(try location.workbench(client)) }
    }
}

/// Prints an instance's name, state and JupyterLab address.
func describe(_ instance: WorkbenchInstance, fallbackName: String) {
    print("name:  \(instance.name ?? fallbackName)")
    print("state: \(instance.state ?? "unknown")")
    if let image = instance.gceSetup?.containerImage {
        print("image: \(image.repository):\(image.tag ?? "latest")")
    }
    if let proxy = instance.proxyUri, !proxy.isEmpty {
        print("url:   https://\(proxy)")
    }
}

struct WorkbenchCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a Workbench instance running an image.",
                                                    usage: Synopsis.Vertex.workbenchCreate)

    @Argument(help: "Instance name.")
    var name: String

    @Option(help: "The image (REPOSITORY[:TAG]); it must derive from Google's workbench-container base.")
    var image: String

    @OptionGroup var location: ZoneOptions

    @Option(help: "Machine type.")
    var machineType = VertexRunRequest.defaultMachineType

    @Option(help: "gs:// URI of a script to run after every start.")
    var postStartupScript: String?

    @Option(help: "Stop the instance after it has been idle this long, for example 3600s (Workbench's default: 10800s).")
    var idleTimeout: String?

    @Option(help: "Service account of the instance.")
    var serviceAccount: String?

    @Flag(help: "Wait until the instance is created.")
    var wait = false

    @OptionGroup var mode: DryRunOption

    @OptionGroup var store: StoreOptions

    func run() async throws {
        _ = try location.resolved()
        let request = WorkbenchCreateRequest(name: name, image: image, machineType: machineType,
                                             postStartupScript: postStartupScript, serviceAccount: serviceAccount,
                                             idleTimeout: idleTimeout)
        let body = try usage { try request.instance() }
        if let warning = baseWarning() { printError("WARNING: \(warning)") }
        if try mode.printed(body) { return }
        try await withGoogleAPI { client in
            let workbench = try location.workbench(client)
            let operation = try await workbench.create(name, body)
            printError("Creating Workbench instance \(name) (operation \(operation.name))")
            guard wait else {
                print(operation.name)
                return
            }
            let done = try await workbench.wait(for: operation, schedule: pollSchedule)
            describe(done.response ?? body, fallbackName: name)
        }
    }

    /// Workbench runs only images built on Google's workbench-container base. When the image
    /// is in the local store, its manifest says what it was built FROM.
    func baseWarning() -> String? {
        guard let reference = try? Reference(parsing: image), let store = try? store.openStore(),
              let descriptor = try? store.resolve(reference), let stored = try? store.image(descriptor) else { return nil }
        let requirement = "Workbench custom containers must derive from \(WorkbenchCreateRequest.supportedBases[0])[-slim]"
        guard let base = stored.manifest.annotations?[ImageManifest.baseNameAnnotation] else {
            return "cannot tell what \(image) was built FROM; \(requirement)"
        }
        return WorkbenchCreateRequest.isSupportedBase(base) ? nil : "\(image) was built FROM \(base); \(requirement)"
    }
}

/// `start`, `stop` and `delete`: one call that answers with an operation.
protocol WorkbenchOperationCommand: AsyncParsableCommand {
    var instance: WorkbenchTarget { get }
    var wait: Bool { get }
    static var verb: String { get }
    func perform(_ workbench: Workbench) async throws -> Workbench.Operation
}

extension WorkbenchOperationCommand {
    var name: String { instance.name }

    /// `start` and `stop`: `POST …/instances/NAME:VERB`.
    func perform(_ workbench: Workbench) async throws -> Workbench.Operation { try await workbench.perform(Self.verb, on: name) }

    func run() async throws {
        try await instance.with { workbench in
            let operation = try await perform(workbench)
            guard wait else {
                printError("\(Self.verb.capitalized) requested for Workbench instance \(name)")
                print(operation.name)
                return
            }
            let done = try await workbench.wait(for: operation, schedule: pollSchedule)
            if let described = done.response, Self.verb != "delete" {
                describe(described, fallbackName: name)
            } else {
                print(name)
            }
        }
    }
}

struct WorkbenchStartCommand: WorkbenchOperationCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped Workbench instance.",
                                                    usage: Synopsis.Vertex.workbench("start"))
    static let verb = "start"
    @OptionGroup var instance: WorkbenchTarget
    @Flag(help: "Wait until the instance is running.") var wait = false
}

struct WorkbenchStopCommand: WorkbenchOperationCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a Workbench instance.",
                                                    usage: Synopsis.Vertex.workbench("stop"))
    static let verb = "stop"
    @OptionGroup var instance: WorkbenchTarget
    @Flag(help: "Wait until the instance is stopped.") var wait = false
}

struct WorkbenchDeleteCommand: WorkbenchOperationCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a Workbench instance.",
                                                    usage: Synopsis.Vertex.workbench("delete"))
    static let verb = "delete"
    @OptionGroup var instance: WorkbenchTarget
    @Flag(help: "Wait until the instance is deleted.") var wait = false
    func perform(_ workbench: Workbench) async throws -> Workbench.Operation { try await workbench.delete(name) }
}

struct WorkbenchDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show a Workbench instance.",
                                                    usage: Synopsis.Vertex.workbenchDescribe)

    @OptionGroup var instance: WorkbenchTarget

    @Flag(help: "Print Google's JSON for the instance.")
    var json = false

    func run() async throws {
        let name = instance.name
        try await instance.with { workbench in
            if json {
                let raw = try await workbench.getJSON(name)
                let object = try JSONSerialization.jsonObject(with: Data(raw))
                let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: pretty, as: UTF8.self))
            } else {
                describe(try await workbench.get(name), fallbackName: name)
            }
        }
    }
}
