import Foundation
import GoogleAPIStandIn
import NIOPosix
import XCTest

final class KnobsAndRecordsTests: StandInTestCase {
    func testRequestLogRecordsWhatWasSent() async throws {
        _ = try await call(.POST, Self.instancesPath + "?instanceId=nb&requestId=r%201", json: Self.instance,
                           headers: ["X-Goog-User-Project": "billing"])
        _ = try await call(.POST, "/token", form: ["grant_type": "refresh_token"], anonymous: true)
        _ = try await call(.GET, Self.customJobsPath + "/1", anonymous: true)
        let log = await google.requests
        XCTAssertEqual(log.map(\.method), ["POST", "POST", "GET"])
        XCTAssertEqual(log.map(\.path), [Self.instancesPath, "/token", Self.customJobsPath + "/1"])
        XCTAssertEqual(log.map(\.responseStatus), [200, 401, 401])
        XCTAssertEqual(log.map(\.number), [1, 2, 3])
        XCTAssertEqual(log[0].query, ["instanceId": "nb", "requestId": "r 1"])
        XCTAssertEqual(log[0].headers["x-goog-user-project"], "billing")
        XCTAssertEqual(log[0].headers["authorization"], "Bearer \(token)")
        XCTAssertEqual(log[0].json, Self.instance)
        XCTAssertEqual(log[1].form["grant_type"], "refresh_token")
        XCTAssertNil(log[1].json)
        XCTAssertFalse(log.contains(where: \.fromScheduler))
        await google.clearRecords()
        let logged = await google.requests.count
        XCTAssertEqual(logged, 0)
        let instances = await google.storedInstances.count
        XCTAssertEqual(instances, 1, "resources stay")
    }

    func testForcedErrors() async throws {
        let denied = GoogleError(code: 403, status: "PERMISSION_DENIED", message: "Permission 'aiplatform.customJobs.create' denied")
        await google.forceError(denied, path: Self.customJobsPath, method: "POST", times: 2)
        await google.forceError(GoogleError(code: 503, status: "UNAVAILABLE", message: "try again"), path: "/v2/*")
        await google.forceError(GoogleError(code: 400, status: "invalid_grant", message: "Account disabled"), path: "/token")
        for _ in 0..<2 {
            assertGoogleError(try await call(.POST, Self.customJobsPath, json: Self.customJob), 403, "PERMISSION_DENIED",
                              contains: "aiplatform.customJobs.create")
        }
        let third = try await call(.POST, Self.customJobsPath, json: Self.customJob).status
        XCTAssertEqual(third, 200, "only twice")
        let get = try await call(.GET, Self.customJobsPath).status
        XCTAssertEqual(get, 200, "POST only")
        assertGoogleError(try await call(.GET, Self.instancesPath + "/x", anonymous: true), 503, "UNAVAILABLE", contains: "try again",
                          "prefix match, before authentication")
        let token = try await call(.POST, "/token", form: ["grant_type": "refresh_token"], anonymous: true)
        XCTAssertEqual(token.status, 400)
        XCTAssertEqual(token.json, ["error": "invalid_grant", "error_description": "Account disabled"], "OAuth's error shape")
        await google.clearForcedErrors()
        assertGoogleError(try await call(.GET, Self.instancesPath + "/x"), 404, "NOT_FOUND")
    }

    func testResponseDelay() async throws {
        await google.configure { $0.responseDelay = .milliseconds(300) }
        let start = ContinuousClock.now
        _ = try await call(.GET, Self.customJobsPath)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(300))
    }

    func testValidationCanBeSwitchedOff() async throws {
        await google.configure { $0.validateBodies = false }
        let unchecked = try await call(.POST, Self.customJobsPath, json: ["anything": true]).status
        XCTAssertEqual(unchecked, 200)
        let failures = await google.schemaFailures.count
        XCTAssertEqual(failures, 0)
    }

    func testBodiesMustBeJSON() async throws {
        assertGoogleError(try await call(.POST, Self.customJobsPath, rawBody: "{}", headers: ["Content-Type": "text/plain"]),
                          400, "INVALID_ARGUMENT", contains: "Content-Type must be application/json, got text/plain")
        assertGoogleError(try await call(.POST, Self.customJobsPath, rawBody: "{", headers: ["Content-Type": "application/json"]),
                          400, "INVALID_ARGUMENT", contains: "not valid JSON")
        let cancel = try await call(.POST, Self.customJobsPath + "/1:cancel").status
        XCTAssertEqual(cancel, 404, "an empty body is {} (then: no such job)")
    }

    func testShutdownStopsListeningAndStartAgainPicksAPort() async throws {
        let port = google.port
        XCTAssertGreaterThan(port, 0)
        XCTAssertEqual(google.baseURL, "http://127.0.0.1:\(port)")
        try await google.shutdown()
        XCTAssertEqual(google.port, 0)
        do {
            // A bare connect: HTTP clients retry refused connections until their deadline.
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            try await channel.close()
            XCTFail("nothing listens after shutdown")
        } catch {}
        try await google.start()
        XCTAssertGreaterThan(google.port, 0)
        let afterRestart = try await call(.GET, Self.customJobsPath).status
        XCTAssertEqual(afterRestart, 200, "tokens and state survive a restart")
    }
}
