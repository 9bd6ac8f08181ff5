import Foundation
import GoogleAPIStandIn
import NIOHTTP1
import XCTest

final class WorkbenchEndpointTests: StandInTestCase {
    private var instancePath: String { Self.instancesPath + "/swiftdock-nb" }

    /// Polls an operation until done (at most `limit` GETs); returns it and how many GETs it took.
    private func poll(_ operation: JSONValue, limit: Int = 10) async throws -> (JSONValue, Int) {
        let name = try XCTUnwrap(operation["name"]?.stringValue)
        for count in 1...limit {
            let answer = try await call(.GET, "/v2/" + name)
            XCTAssertEqual(answer.status, 200, answer.text)
            if answer.json["done"] == true { return (answer.json, count) }
        }
        XCTFail("operation \(name) not done after \(limit) polls")
        return (.null, limit)
    }

    func testCreateIsAnOperationThatEndsWithAnActiveInstance() async throws {
        let created = try await call(.POST, Self.instancesPath + "?instanceId=swiftdock-nb", json: Self.instance)
        XCTAssertEqual(created.status, 200, created.text)
        let operation = created.json
        XCTAssertEqual(operation["done"], false)
        XCTAssertNotNil(operation["name"]?.stringValue?.range(
            of: #"^projects/swiftdock-test/locations/us-central1-b/operations/operation-[0-9]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$"#,
            options: .regularExpression), operation.description)
        XCTAssertEqual(operation["metadata"]?["@type"], "type.googleapis.com/google.cloud.notebooks.v2.OperationMetadata")
        XCTAssertEqual(operation["metadata"]?["verb"], "create")
        XCTAssertEqual(operation["metadata"]?["target"], "projects/swiftdock-test/locations/us-central1-b/instances/swiftdock-nb")
        let provisioning = try await call(.GET, instancePath).json["state"]
        XCTAssertEqual(provisioning, "PROVISIONING")

        let (done, polls) = try await poll(operation)
        XCTAssertEqual(polls, 2, "one pending poll by default")
        let instance = try XCTUnwrap(done["response"])
        XCTAssertEqual(instance["@type"], "type.googleapis.com/google.cloud.notebooks.v2.Instance")
        XCTAssertEqual(instance["name"], "projects/swiftdock-test/locations/us-central1-b/instances/swiftdock-nb")
        XCTAssertEqual(instance["state"], "ACTIVE")
        XCTAssertEqual(instance["gceSetup"], Self.instance["gceSetup"])
        let proxy = try XCTUnwrap(instance["proxyUri"]?.stringValue)
        XCTAssertNotNil(proxy.range(of: #"^[0-9a-f]+-dot-us-central1\.notebooks\.googleusercontent\.com$"#, options: .regularExpression),
                        "\(proxy): no scheme, as Workbench writes it")
        XCTAssertEqual(instance["creator"]?.stringValue, google.credentials.serviceAccountEmail)
        XCTAssertNil(done["error"])
        XCTAssertNotNil(done["metadata"]?["endTime"]?.stringValue)

        let described = try await call(.GET, instancePath).json
        XCTAssertEqual(described["state"], "ACTIVE")
        XCTAssertNil(described["@type"])
        let listed = try await call(.GET, Self.instancesPath).json["instances"]?.arrayValue?.count
        XCTAssertEqual(listed, 1)
        await assertNoSchemaFailures()
    }

    func testPendingPollsKnob() async throws {
        for pending in [0, 3] {
            await google.configure { $0.operationPendingPolls = pending }
            let created = try await call(.POST, Self.instancesPath + "?instanceId=nb-\(pending)", json: Self.instance)
            let (_, polls) = try await poll(created.json)
            XCTAssertEqual(polls, pending + 1)
        }
    }

    func testStartStopDelete() async throws {
        await google.configure { $0.operationPendingPolls = 0 }
        let created = try await call(.POST, Self.instancesPath + "?instanceId=swiftdock-nb", json: Self.instance)
        _ = try await poll(created.json)
        // (action, method, path, body, state right after the call, state when done; nil = gone)
        let steps: [(String, HTTPMethod, String, JSONValue?, String?, String?)] = [
            ("stop", .POST, instancePath + ":stop", [:], "STOPPING", "STOPPED"),
            ("start", .POST, instancePath + ":start", [:], "STARTING", "ACTIVE"),
            ("delete", .DELETE, instancePath, nil, "ACTIVE", nil),
        ]
        for (action, method, path, body, during, after) in steps {
            let answer = try await call(method, path, json: body)
            XCTAssertEqual(answer.status, 200, "\(action): \(answer.text)")
            XCTAssertEqual(answer.json["done"], false, action)
            XCTAssertEqual(answer.json["metadata"]?["verb"]?.stringValue, action)
            let state = try await call(.GET, instancePath).json["state"]?.stringValue
            XCTAssertEqual(state, during, action)
            let (done, _) = try await poll(answer.json)
            let now = try await call(.GET, instancePath)
            if let after {
                XCTAssertEqual(done["response"]?["state"]?.stringValue, after, action)
                XCTAssertEqual(now.json["state"]?.stringValue, after, action)
            } else {
                XCTAssertEqual(done["response"], ["@type": "type.googleapis.com/google.protobuf.Empty"])
                assertGoogleError(now, 404, "NOT_FOUND", contains: "not found", action)
            }
        }
        await assertNoSchemaFailures()
    }

    func testErrors() async throws {
        await google.addInstance(project: Self.project, zone: Self.zone, id: "taken")
        let legacy: JSONValue = [
            "machineType": "n1-standard-4", "postStartupScript": "gs://bucket/startup.sh",
            "containerImage": ["repository": "gcr.io/p/image", "tag": "latest"],
        ]
        let cases: [(String, HTTPMethod, String, JSONValue?, Int, String, String)] = [
            ("existing id", .POST, Self.instancesPath + "?instanceId=taken", Self.instance, 409, "ALREADY_EXISTS", "already exists"),
            ("no instanceId", .POST, Self.instancesPath, Self.instance, 400, "INVALID_ARGUMENT", "instanceId"),
            ("bad instanceId", .POST, Self.instancesPath + "?instanceId=Not_Valid", Self.instance, 400, "INVALID_ARGUMENT", "instanceId"),
            ("v1 flat body", .POST, Self.instancesPath + "?instanceId=legacy", legacy, 400, "INVALID_ARGUMENT", "unknown field"),
            ("region for a zone", .POST, "/v2/projects/p/locations/us-central1/instances?instanceId=x", Self.instance, 400,
             "INVALID_ARGUMENT", "not a zone"),
            ("missing instance", .GET, Self.instancesPath + "/nope", nil, 404, "NOT_FOUND", "not found"),
            ("start missing", .POST, Self.instancesPath + "/nope:start", [:], 404, "NOT_FOUND", "not found"),
            ("delete missing", .DELETE, Self.instancesPath + "/nope", nil, 404, "NOT_FOUND", "not found"),
            ("unknown operation", .GET, "/v2/projects/p/locations/us-central1-b/operations/operation-1", nil, 404, "NOT_FOUND", "not found"),
            ("start with a body", .POST, Self.instancesPath + "/taken:start", ["force": true], 400, "INVALID_ARGUMENT", "unknown field"),
        ]
        for (what, method, path, body, code, status, message) in cases {
            assertGoogleError(try await call(method, path, json: body), code, status, contains: message, what)
        }
        let failures = await google.schemaFailures
        XCTAssertEqual(failures.map(\.schema), ["notebooks.v2.json Instance", "notebooks.v2.json notebooks.projects.locations.instances.start"])
        XCTAssertEqual(failures.first?.message, "ERROR $.containerImage: unknown field for Instance")
        let instances = await google.storedInstances.count
        XCTAssertEqual(instances, 1)
    }
}
