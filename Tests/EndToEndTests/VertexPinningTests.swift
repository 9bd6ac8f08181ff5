import Foundation
import GoogleAPIStandIn
import TestSupport
import XCTest

/// `vertex run` / `vertex schedule` pin the image to the digest this store pushed, map local
/// image IDs to the name they were pushed as, and refuse IDs never pushed (issues 16 and 17).
/// Bodies go through the Google stand-in, which checks them against Google's schemas.
extension VertexCommandTests {
    func imageURIs() async -> [String] {
        await google.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/customJobs") }
            .compactMap { $0.json?["jobSpec"]?["workerPoolSpecs"]?[0]?["containerSpec"]?["imageUri"]?.stringValue }
    }

    func testRunAndScheduleSendTheDigestThisStorePushed() async throws {
        guard let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        let tagged = "\(registry)/pinning/app:v1"
        try Harness.write("FROM scratch\nCOPY a /a\n", to: home + "/ctx/Dockerfile")
        try Harness.write("pushed\n", to: home + "/ctx/a")
        let id = try await ok(["build", "-q", "-t", tagged, home + "/ctx"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pushed = try await ok(["push", "-q", tagged]).stdout
        let digest = try XCTUnwrap(pushed.split(separator: " ").first { $0.hasPrefix("sha256:") }, pushed)
        let pinned = "\(registry)/pinning/app@\(digest)"

        // By tag: pinned, and one line says so.
        let run = try await ok(["vertex", "run", tagged] + regionFlags)
        var uris = await imageURIs()
        XCTAssertEqual(uris.last, pinned)
        let notes = run.stderr.split(separator: "\n").filter { $0.contains("pushed from this store") }
        XCTAssertEqual(notes.count, 1, run.stderr)
        XCTAssertTrue(notes.first?.contains("the job runs \(pinned)") == true, run.stderr)
        _ = try await ok(["vertex", "run", tagged, "--no-pin"] + regionFlags)
        uris = await imageURIs()
        XCTAssertEqual(uris.last, tagged, "--no-pin keeps the tag")

        // By image ID (full, sha256:-less, short): mapped to the pushed name, pinned.
        for text in [id, String(id.dropFirst(7)), String(id.dropFirst(7).prefix(12))] {
            let mapped = try await ok(["vertex", "run", text] + regionFlags + ["--dry-run"])
            XCTAssertTrue(mapped.stdout.contains("\"imageUri\" : \"\(pinned)\""), "\(text): \(mapped.stdout)")
            XCTAssertTrue(mapped.stderr.contains("\(text) was pushed as \(tagged)"), mapped.stderr)
        }
        let unpinnedID = try await ok(["vertex", "run", id, "--no-pin"] + regionFlags + ["--dry-run"])
        XCTAssertTrue(unpinnedID.stdout.contains("\"imageUri\" : \"\(tagged)\""), unpinnedID.stdout)

        // Scheduled: the CustomJob Scheduler will post names the digest too (and --no-pin after --).
        let scheduleFlags = ["--cron", "0 6 * * *"] + regionFlags + ["--service-account", "scheduler@swiftdock-test.iam.gserviceaccount.com"]
        for (name, extra, expected) in [("pinned", [String](), pinned), ("tagged", ["--no-pin"], tagged)] {
            _ = try await ok(["vertex", "schedule", name] + scheduleFlags + ["--", tagged] + extra)
            let post = await google.requests.last { $0.method == "POST" && $0.path.hasSuffix("/jobs") }
            let body = try XCTUnwrap(post?.json?["httpTarget"]?["body"]?.stringValue)
            let job = try XCTUnwrap(Data(base64Encoded: body).flatMap(JSONValue.init(data:)))
            XCTAssertEqual(job["jobSpec"]?["workerPoolSpecs"]?[0]?["containerSpec"]?["imageUri"]?.stringValue, expected, name)
        }

        // The local tag moves without a push: the job still runs what was pushed, with a warning.
        try Harness.write("rebuilt, not pushed\n", to: home + "/ctx/a")
        _ = try await ok(["build", "-q", "-t", tagged, home + "/ctx"])
        let moved = try await ok(["vertex", "run", tagged] + regionFlags + ["--dry-run"])
        XCTAssertTrue(moved.stdout.contains("\"imageUri\" : \"\(pinned)\""), moved.stdout)
        XCTAssertTrue(moved.stderr.contains("WARNING: the local \(tagged) now points at manifest sha256:"), moved.stderr)
        XCTAssertTrue(moved.stderr.contains("which was not pushed; the job runs the pushed \(digest)"), moved.stderr)

        // An image never pushed, named by ID: one line, exit 1, nothing sent.
        let before = await imageURIs().count
        try Harness.write("never pushed\n", to: home + "/ctx/a")
        let local = try await ok(["build", "-q", home + "/ctx"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for arguments in [["vertex", "run", local] + regionFlags,
                          ["vertex", "schedule", "never"] + scheduleFlags + ["--", String(local.dropFirst(7).prefix(12))]] {
            let refused = try await swiftdock(arguments)
            XCTAssertEqual(refused.status, 1, refused.stderr)
            XCTAssertTrue(refused.stderr.hasPrefix("Error: ") && refused.stderr.contains("never pushed"), refused.stderr)
            XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        }
        let after = await imageURIs().count
        XCTAssertEqual(after, before)

        // A tag this store never pushed goes as typed.
        let foreign = try await ok(["vertex", "run", image] + regionFlags + ["--dry-run"])
        XCTAssertTrue(foreign.stdout.contains("\"imageUri\" : \"\(image)\""), foreign.stdout)
        XCTAssertFalse(foreign.stderr.contains("pushed"), foreign.stderr)
    }
}
