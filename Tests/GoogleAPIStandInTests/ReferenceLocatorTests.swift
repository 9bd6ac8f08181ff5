import AsyncHTTPClient
import Foundation
import GoogleAPIStandIn
import NIOCore
import TemporaryDirectories
import XCTest

final class ReferenceLocatorTests: XCTestCase {
    private let files = [GCPReference.validatorName] + GCPReference.documentNames

    /// Where `../shared` keeps each vendored file.
    private func sharedPath(_ name: String) -> URL {
        name == GCPReference.validatorName
            ? GCPReference.sharedDirectory.appendingPathComponent("tools/\(name)")
            : GCPReference.sharedDirectory.appendingPathComponent("reference/gcp/\(name)")
    }

    /// The drift check: the vendored copies are byte-identical to `../shared`'s when it exists.
    func testVendoredCopiesMatchShared() throws {
        guard FileManager.default.fileExists(atPath: GCPReference.sharedDirectory.path) else {
            throw XCTSkip("\(GCPReference.sharedDirectory.path) does not exist (a fresh clone): nothing to compare")
        }
        for name in files {
            let vendored = try Data(contentsOf: GCPReference.vendoredDirectory.appendingPathComponent(name))
            let shared = try Data(contentsOf: sharedPath(name))
            XCTAssertEqual(vendored, shared, "Fixtures/gcp-reference/\(name) differs from \(sharedPath(name).path): copy it again")
        }
    }

    func testSearchOrder() throws {
        let vendored = GCPReference.vendoredDirectory
        let sharedExists = FileManager.default.fileExists(atPath: GCPReference.sharedDirectory.path)
        let byDefault = try GCPReference.locate(environment: [:])
        XCTAssertEqual(byDefault.origin, sharedExists ? .shared : .vendored)

        // A folder laid out like the vendored copy, and one laid out like shared/.
        let flat = try GCPReference.locate(environment: [GCPReference.environmentVariable: vendored.path])
        XCTAssertEqual(flat, GCPReference(origin: .environment, validator: vendored.appendingPathComponent("gcp_validate.py"),
                                          documents: vendored))
        let root = URL(fileURLWithPath: try makeTemporaryDirectory("gcp-ref"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tools"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("reference/gcp"), withIntermediateDirectories: true)
        for name in files {
            let target = name == GCPReference.validatorName ? "tools/\(name)" : "reference/gcp/\(name)"
            try FileManager.default.copyItem(at: vendored.appendingPathComponent(name), to: root.appendingPathComponent(target))
        }
        let sharedLike = try GCPReference.locate(environment: [GCPReference.environmentVariable: root.path])
        XCTAssertEqual(sharedLike.origin, .environment)
        XCTAssertEqual(sharedLike.documents.path, root.appendingPathComponent("reference/gcp").path)

        try FileManager.default.removeItem(at: root.appendingPathComponent("reference/gcp/oneofs.json"))
        XCTAssertThrowsError(try GCPReference.locate(environment: [GCPReference.environmentVariable: root.path])) { error in
            XCTAssertTrue("\(error)".contains("holds neither gcp_validate.py"), "\(error)")
        }
    }

    /// The validator works on the vendored copy alone (what CI has): good bodies pass, bad ones fail.
    func testVendoredValidator() async throws {
        let reference = GCPReference(origin: .vendored, validator: GCPReference.vendoredDirectory.appendingPathComponent("gcp_validate.py"),
                                     documents: GCPReference.vendoredDirectory)
        let validator = SchemaValidator(reference: reference)
        let cases: [(String, String, JSONValue, String?)] = [
            ("aiplatform.v1.customjob.json", "CustomJob", StandInTestCase.customJob, nil),
            ("notebooks.v2.json", "Instance", StandInTestCase.instance, nil),
            ("cloudscheduler.v1.json", "Job", StandInTestCase.schedulerJob(id: "j"), nil),
            ("notebooks.v2.json", "notebooks.projects.locations.instances.stop", [:], nil),
            ("notebooks.v2.json", "Instance", ["machineType": "n1-standard-4"], "ERROR $.machineType: unknown field for Instance"),
            ("notebooks.v2.json", "Instance", ["gceSetup": ["containerImage": ["tag": "latest"],
                                                           "vmImage": ["project": "p", "family": "f"]]],
             "ERROR $.gceSetup.containerImage.repository: missing"),
            ("cloudscheduler.v1.json", "Job", ["httpTarget": ["uri": "https://x", "body": "not base64!"]],
             "ERROR $.httpTarget.body: format byte: not valid base64"),
        ]
        for (document, schema, body, problem) in cases {
            let outcome = await validator.check(body.data, document: document, schema: schema)
            XCTAssertEqual(outcome.passed, problem == nil, "\(schema): \(outcome.output)")
            XCTAssertTrue(outcome.firstProblem?.hasPrefix(problem ?? "") ?? (problem == nil), "\(schema): \(outcome.output)")
        }
        let missing = await SchemaValidator(reference: reference, python: "/nonexistent/python3").check(Data("{}".utf8),
                                                                                                      document: "notebooks.v2.json", schema: "Instance")
        XCTAssertFalse(missing.passed)
        XCTAssertTrue(missing.firstProblem?.contains("could not run /nonexistent/python3") ?? false, missing.output)
    }

    /// A stand-in whose reference is broken refuses every body and records why.
    func testStandInWithABrokenReferenceRefusesBodies() async throws {
        let broken = GCPReference(origin: .environment, validator: URL(fileURLWithPath: "/nonexistent/gcp_validate.py"),
                                  documents: URL(fileURLWithPath: "/nonexistent"))
        let google = StandInServer(reference: broken)
        try await google.start()
        let token = await google.mintAccessToken()
        var request = HTTPClientRequest(url: google.baseURL + StandInTestCase.customJobsPath)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: StandInTestCase.customJob.data))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        XCTAssertEqual(response.status.code, 400)
        let failures = await google.schemaFailures
        let failure = try XCTUnwrap(failures.first)
        XCTAssertTrue(failure.message.contains("/nonexistent/gcp_validate.py"), failure.output)
        try await google.shutdown()
    }
}
