import AsyncHTTPClient
import Foundation
import GoogleAPIStandIn
import NIOCore
import NIOHTTP1
import XCTest

/// Starts a fresh stand-in for each test and talks to it over loopback HTTP with AsyncHTTPClient.
class StandInTestCase: XCTestCase {
    var google: StandInServer!
    /// A token minted by the stand-in, for tests that do not exercise the OAuth endpoint.
    var token = ""

    override func setUp() async throws {
        try await super.setUp()
        google = StandInServer()
        try await google.start()
        token = await google.mintAccessToken()
    }

    override func tearDown() async throws {
        try await google?.shutdown()
        google = nil
        try await super.tearDown()
    }

    /// What the stand-in answered.
    struct Answer {
        var status: Int
        var json: JSONValue
        var text: String
    }

    /// One request; `json` is sent as `application/json`, `form` as a urlencoded body, `rawBody` as
    /// is. `bearer` replaces the test's token; `anonymous` sends none. Answers are parsed as JSON
    /// (`.null` when they are not).
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, rawBody: String? = nil, form: [String: String]? = nil,
              bearer: String? = nil, anonymous: Bool = false, headers: [String: String] = [:]) async throws -> Answer {
        var request = HTTPClientRequest(url: google.baseURL + path)
        request.method = method
        if !anonymous { request.headers.add(name: "Authorization", value: "Bearer \(bearer ?? token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json.data))
        } else if let rawBody {
            request.body = .bytes(ByteBuffer(string: rawBody))
        } else if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            let text = form.sorted { $0.key < $1.key }.map {
                "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
            }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: text))
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 16 << 20)
        let data = Data(buffer: body)
        return Answer(status: Int(response.status.code), json: JSONValue(data: data) ?? .null,
                      text: String(decoding: data, as: UTF8.self))
    }

    /// Asserts a Google error answer: HTTP status, `error.code` equal to it, `error.status`, and
    /// (when given) a substring of `error.message`.
    func assertGoogleError(_ answer: Answer, _ code: Int, _ status: String, contains message: String? = nil, _ what: String = "",
                           file: StaticString = #filePath, line: UInt = #line) {
        let context = what.isEmpty ? answer.text : "\(what): \(answer.text)"
        XCTAssertEqual(answer.status, code, context, file: file, line: line)
        XCTAssertEqual(answer.json["error"]?["code"], .integer(code), context, file: file, line: line)
        XCTAssertEqual(answer.json["error"]?["status"]?.stringValue, status, context, file: file, line: line)
        if let message {
            let actual = answer.json["error"]?["message"]?.stringValue ?? ""
            XCTAssertTrue(actual.contains(message), "\(what): \(actual) does not contain \(message)", file: file, line: line)
        }
    }

    /// Fails the test for every body the schema check refused.
    func assertNoSchemaFailures(file: StaticString = #filePath, line: UInt = #line) async {
        for failure in await google.schemaFailures {
            XCTFail("schema failure on \(failure.method) \(failure.path) against \(failure.schema): \(failure.message)",
                    file: file, line: line)
        }
    }

    // MARK: - Bodies, as FACTS.md and Google's examples write them

    static let project = "swiftdock-test"
    static let region = "europe-west3"
    static let zone = "us-central1-b"
    static let image = "europe-west3-docker.pkg.dev/swiftdock-test/repo/notebook:latest"

    static var customJobsPath: String { "/v1/projects/\(project)/locations/\(region)/customJobs" }
    static var instancesPath: String { "/v2/projects/\(project)/locations/\(zone)/instances" }
    static var schedulerJobsPath: String { "/v1/projects/\(project)/locations/\(region)/jobs" }

    static let customJob: JSONValue = [
        "displayName": "swiftdock-run",
        "jobSpec": [
            "workerPoolSpecs": [[
                "machineSpec": ["machineType": "n1-standard-4"],
                "replicaCount": "1",
                "containerSpec": ["imageUri": .string(image), "command": ["/bin/bash", "-c"],
                                  "args": ["cd /Sourcecode && ipython main.ipynb"]],
            ]],
        ],
    ]

    static let instance: JSONValue = [
        "gceSetup": [
            "machineType": "n1-standard-4",
            "containerImage": ["repository": "europe-west3-docker.pkg.dev/swiftdock-test/repo/notebook", "tag": "latest"],
            "metadata": ["post-startup-script": "gs://bucket/startup.sh", "post-startup-script-behavior": "run_every_start"],
        ],
    ]

    /// A Scheduler job whose HTTP target creates `body` as a CustomJob, as `vertex schedule` writes it.
    static func schedulerJob(id: String, body: JSONValue = customJob, uri: String? = nil,
                             headers: JSONValue = ["Content-Type": "application/json"]) -> JSONValue {
        [
            "name": .string("projects/\(project)/locations/\(region)/jobs/\(id)"),
            "schedule": "0 6 * * *", "timeZone": "Europe/Berlin", "attemptDeadline": "180s",
            "retryConfig": ["retryCount": 0],
            "httpTarget": [
                "uri": .string(uri ?? "https://\(region)-aiplatform.googleapis.com\(customJobsPath)"),
                "httpMethod": "POST", "headers": headers, "body": .string(body.data.base64EncodedString()),
                "oauthToken": ["serviceAccountEmail": .string("scheduler@\(project).iam.gserviceaccount.com"),
                               "scope": "https://www.googleapis.com/auth/cloud-platform"],
            ],
        ]
    }
}
