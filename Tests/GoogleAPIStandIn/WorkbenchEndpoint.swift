import Foundation

/// A Workbench long-running operation and what it does to its instance when it is done.
struct StoredOperation: Sendable {
    enum Effect: String, Sendable {
        case create, start, stop, delete
    }

    var resource: JSONValue
    /// The full name of the instance the operation works on.
    var instance: String
    var effect: Effect
    /// GETs that still answer `done: false`.
    var pendingPolls: Int
}

/// Vertex AI Workbench instances (notebooks v2), on a zone:
///
/// - `POST /v2/projects/P/locations/ZONE/instances?instanceId=ID` (body `Instance`) → an `Operation`
///   (`done: false`); the instance is PROVISIONING until the operation is done, then ACTIVE with a
///   `proxyUri`. An existing ID → 409 ALREADY_EXISTS.
/// - `GET /v2/projects/P/locations/ZONE/operations/OP` → the operation; done after
///   `StandInKnobs.operationPendingPolls` GETs, with `response` = the Instance
///   (`@type` `type.googleapis.com/google.cloud.notebooks.v2.Instance`).
/// - `GET …/instances/ID` → the Instance (404 NOT_FOUND when there is none); `GET …/instances` →
///   `{"instances": […], "nextPageToken"}` (`pageSize`, `pageToken`).
/// - `POST …/instances/ID:start`, `:stop` (body `{}`) → an Operation; STARTING/STOPPING, then
///   ACTIVE/STOPPED when done. `DELETE …/instances/ID` → an Operation; the instance is gone when done.
extension StandInServer {
    static let instanceType = "type.googleapis.com/google.cloud.notebooks.v2.Instance"
    static let operationMetadataType = "type.googleapis.com/google.cloud.notebooks.v2.OperationMetadata"

    func workbenchInstances(_ request: IncomingRequest, _ resource: ResourcePath, _ body: JSONValue?) throws -> APIResponse {
        try requireZone(resource)
        switch (request.method, resource.id, resource.verb) {
        case ("POST", nil, nil):
            return .ok(try createInstance(request, resource, body ?? [:]))
        case ("GET", nil, nil):
            let prefix = "projects/\(resource.project)/locations/\(resource.location)/instances/"
            let found = instances.keys.sorted().filter { $0.hasPrefix(prefix) }.compactMap { instances[$0] }
            return .ok(try Listing.page(found, key: "instances", query: request.query, defaultPageSize: knobs.listPageSize))
        case ("GET", .some, nil):
            return .ok(try existingInstance(resource))
        case ("POST", .some, "start"):
            _ = try existingInstance(resource)
            instances[resource.name]?["state"] = "STARTING"
            return .ok(startOperation(.start, instance: resource.name, resource))
        case ("POST", .some, "stop"):
            _ = try existingInstance(resource)
            instances[resource.name]?["state"] = "STOPPING"
            return .ok(startOperation(.stop, instance: resource.name, resource))
        case ("DELETE", .some, nil):
            _ = try existingInstance(resource)
            return .ok(startOperation(.delete, instance: resource.name, resource))
        default:
            throw Self.noRoute(request)
        }
    }

    func workbenchOperations(_ request: IncomingRequest, _ resource: ResourcePath) throws -> APIResponse {
        try requireZone(resource)
        guard request.method == "GET", resource.id != nil, resource.verb == nil else { throw Self.noRoute(request) }
        guard var operation = operations[resource.name] else {
            throw GoogleError.notFound("Operation \(resource.name) not found.")
        }
        if operation.resource["done"] != .bool(true) {
            if operation.pendingPolls > 0 {
                operation.pendingPolls -= 1
            } else {
                complete(&operation)
            }
            operations[resource.name] = operation
        }
        return .ok(operation.resource)
    }

    /// Workbench instances that exist now (pre-existing ones included), by full name.
    public var storedInstances: [String: JSONValue] { instances }

    /// Makes an instance exist before the test runs, e.g. to test ALREADY_EXISTS or `start`.
    /// `gceSetup` defaults to a minimal one; `state` to ACTIVE.
    public func addInstance(project: String, zone: String, id: String, state: String = "ACTIVE",
                            gceSetup: JSONValue = ["machineType": "n1-standard-4"]) {
        let name = "projects/\(project)/locations/\(zone)/instances/\(id)"
        instances[name] = [
            "name": .string(name), "state": .string(state), "gceSetup": gceSetup, "createTime": Timestamp.now(),
            "updateTime": Timestamp.now(), "proxyUri": .string(Self.proxyURI(zone: zone)),
        ]
    }

    private func requireZone(_ resource: ResourcePath) throws {
        guard LocationShape.isZone(resource.location) else {
            throw GoogleError.invalidArgument("Location \(resource.location) is not a zone (e.g. us-central1-b).")
        }
    }

    private func createInstance(_ request: IncomingRequest, _ resource: ResourcePath, _ body: JSONValue) throws -> JSONValue {
        guard let id = request.query["instanceId"], !id.isEmpty else {
            throw GoogleError.invalidArgument("instanceId is required.")
        }
        guard id.range(of: #"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"#, options: .regularExpression) != nil else {
            throw GoogleError.invalidArgument("Invalid instanceId \(id): lowercase letters, digits and hyphens, starting with a letter.")
        }
        let name = "\(resource.parent)/instances/\(id)"
        guard instances[name] == nil else { throw GoogleError.alreadyExists("Instance \(name) already exists.") }
        var instance = body
        instance["name"] = .string(name)
        instance["id"] = .string(UUID().uuidString.lowercased())
        instance["state"] = "PROVISIONING"
        instance["createTime"] = Timestamp.now()
        instance["updateTime"] = Timestamp.now()
        if let token = request.bearerToken, case .serviceAccount(let email)? = accessTokens[token] {
            instance["creator"] = .string(email)
        }
        instances[name] = instance
        return startOperation(.create, instance: name, resource)
    }

    private func existingInstance(_ resource: ResourcePath) throws -> JSONValue {
        guard let instance = instances[resource.name] else {
            throw GoogleError.notFound("Instance \(resource.name) not found.")
        }
        return instance
    }

    /// Records a new operation on `instance` and returns it (`done: false`).
    private func startOperation(_ effect: StoredOperation.Effect, instance: String, _ resource: ResourcePath) -> JSONValue {
        let name = "\(resource.parent)/operations/operation-\(Int(Date().timeIntervalSince1970 * 1000))-"
            + "\(StandInCredentials.hex(7).dropLast())-\(StandInCredentials.hex(4))-\(StandInCredentials.hex(4))"
        let endpoint = ["create": "CreateInstance", "start": "StartInstance", "stop": "StopInstance", "delete": "DeleteInstance"]
        let operation: JSONValue = [
            "name": .string(name), "done": false,
            "metadata": [
                "@type": .string(Self.operationMetadataType), "createTime": Timestamp.now(), "target": .string(instance),
                "verb": .string(effect.rawValue), "requestedCancellation": false, "apiVersion": "v2",
                "endpoint": .string(endpoint[effect.rawValue]!),
            ],
        ]
        operations[name] = StoredOperation(resource: operation, instance: instance, effect: effect,
                                           pendingPolls: max(0, knobs.operationPendingPolls))
        return operation
    }

    /// Applies a finished operation to its instance and fills in `done`, `response` (or `error`).
    private func complete(_ operation: inout StoredOperation) {
        operation.resource["done"] = true
        operation.resource["metadata"]?["endTime"] = Timestamp.now()
        guard var instance = instances[operation.instance] else {
            operation.resource["error"] = GoogleError.notFound("Instance \(operation.instance) not found.").rpcStatus
            return
        }
        switch operation.effect {
        case .delete:
            instances[operation.instance] = nil
            operation.resource["response"] = ["@type": "type.googleapis.com/google.protobuf.Empty"]
            return
        case .create, .start:
            instance["state"] = "ACTIVE"
            let zone = operation.instance.split(separator: "/")[3]
            if instance["proxyUri"] == nil { instance["proxyUri"] = .string(Self.proxyURI(zone: String(zone))) }
        case .stop:
            instance["state"] = "STOPPED"
        }
        instance["updateTime"] = Timestamp.now()
        instances[operation.instance] = instance
        var response = instance
        response["@type"] = .string(Self.instanceType)
        operation.resource["response"] = response
    }

    /// `HASH-dot-REGION.notebooks.googleusercontent.com`: Workbench's proxy address, which it
    /// gives without a scheme.
    static func proxyURI(zone: String) -> String {
        let region = zone.split(separator: "-").dropLast().joined(separator: "-")
        return "\(StandInCredentials.hex(8))-dot-\(region).notebooks.googleusercontent.com"
    }
}
