import Foundation

/// Workbench instances (notebooks v2) in one project and zone. Create, start, stop and delete
/// answer with long-running operations, polled on `notebooks.googleapis.com/v2/{name}`.
public struct Workbench: Sendable {
    public typealias Operation = LongRunningOperation<WorkbenchInstance>

    public let client: GoogleAPIClient
    public let project: String
    public let zone: String

    public init(client: GoogleAPIClient, project: String, zone: String) {
        self.client = client
        self.project = project
        self.zone = zone
    }

    var instances: String { GoogleEndpoints.instances(project: project, zone: zone) }
    var place: String { GoogleEndpoints.place(project: project, location: zone) }

    /// Starts creating `name`; an existing instance fails with "already exists".
    public func create(_ name: String, _ instance: WorkbenchInstance) async throws -> Operation {
        do {
            // requestId makes a retried create return the same operation instead of ALREADY_EXISTS.
            return try await client.call(.POST, "\(instances)?instanceId=\(name)&requestId=\(UUID().uuidString.lowercased())", body: instance,
                                         action: "create Workbench instance \(name) in \(place)")
        } catch let error as VertexError where error.httpStatus == 409 {
            throw VertexError(.api, "Workbench instance \(name) already exists in \(place)")
        }
    }

    public func get(_ name: String) async throws -> WorkbenchInstance {
        try await client.call(.GET, "\(instances)/\(name)", action: "describe Workbench instance \(name) in \(place)")
    }

    /// The instance as Google describes it, every field included.
    public func getJSON(_ name: String) async throws -> [UInt8] {
        try await client.rawJSON("\(instances)/\(name)", action: "describe Workbench instance \(name) in \(place)")
    }

    /// `start` or `stop`.
    public func perform(_ verb: String, on name: String) async throws -> Operation {
        try await client.call(.POST, "\(instances)/\(name):\(verb)", body: GoogleAPIClient.Empty(),
                              action: "\(verb) Workbench instance \(name) in \(place)")
    }

    public func delete(_ name: String) async throws -> Operation {
        try await client.call(.DELETE, "\(instances)/\(name)", action: "delete Workbench instance \(name) in \(place)")
    }

    /// Polls the operation until it is done; its error becomes a thrown `VertexError`.
    public func wait(for operation: Operation, schedule: PollSchedule) async throws -> Operation {
        let done = operation.isDone ? operation : try await schedule.poll({
            try await client.call(.GET, "\(GoogleEndpoints.notebooks)/\(operation.name)", action: "get operation \(operation.name)",
                                  as: Operation.self)
        }, until: \.isDone)
        if let error = done.error {
            throw VertexError(.failed, "operation \(done.name) failed: \(VertexError.oneLine(error.message ?? "code \(error.code ?? 0)"))")
        }
        return done
    }
}
