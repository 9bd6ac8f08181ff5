import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A loopback stand-in of the Google APIs `swiftdock vertex` calls, for XCTest, on one ephemeral
/// port: point `SWIFTDOCK_GOOGLE_API_BASE` at `baseURL`.
///
/// - `POST /token`: Google's OAuth2 token endpoint (`OAuthEndpoint.swift`);
/// - `/v1/projects/P/locations/R/customJobs…`: Vertex AI CustomJobs (`CustomJobEndpoint.swift`);
/// - `/v2/projects/P/locations/ZONE/instances…` and `…/operations/…`: Workbench (`WorkbenchEndpoint.swift`);
/// - `/v1/projects/P/locations/R/jobs…`: Cloud Scheduler (`SchedulerEndpoint.swift`), whose `:run`
///   performs the job's HTTP target against this same stand-in;
/// - `POST /v2/entries:list`: Cloud Logging, a CustomJob's log lines (`LoggingEndpoint.swift`).
///
/// Everything but `/token` needs `Authorization: Bearer` with a token minted here (401
/// `UNAUTHENTICATED` otherwise); errors are Google's `{"error": {"code", "message", "status"}}`.
/// Every request is recorded (`requests`), every JSON body is checked against Google's discovery
/// schema (`schemaFailures`), and `configure(_:)` sets per-test behaviour (`StandInKnobs`).
///
/// ```swift
/// let google = StandInServer()
/// try await google.start()
/// try google.credentials.writeServiceAccountKey(to: dir + "/sa.json")
/// // run swiftdock with SWIFTDOCK_GOOGLE_API_BASE=google.baseURL, GOOGLE_APPLICATION_CREDENTIALS=dir/sa.json
/// let failures = await google.schemaFailures
/// try await google.shutdown()
/// ```
public actor StandInServer {
    /// The identities the token endpoint accepts and the ADC files for them.
    public nonisolated let credentials: StandInCredentials
    /// Where the discovery documents and the validator were found.
    public nonisolated let reference: GCPReference?
    let validator: SchemaValidator?
    let referenceProblem: String?

    /// The per-test behaviour; change it with `configure(_:)`.
    public private(set) var knobs: StandInKnobs

    // Recorded for the tests.
    var log: [RecordedRequest] = []
    var failures: [SchemaFailure] = []
    var runs: [ScheduledRun] = []
    var forcedErrors: [ForcedError] = []
    var requestCount = 0

    // Resources.
    var accessTokens: [String: OAuthGrantVerifier.Grantee] = [:]
    var grantLog: [OAuthGrantVerifier.Grantee] = []
    var projectNumbers: [String: String] = [:]
    var customJobs: [String: StoredCustomJob] = [:]
    var customJobOrder: [String] = []
    var instances: [String: JSONValue] = [:]
    var operations: [String: StoredOperation] = [:]
    var schedulerJobs: [String: JSONValue] = [:]
    var schedulerJobOrder: [String] = []
    var logEntries: [JSONValue] = []
    var logSequence = 0

    private var serverTask: Task<Void, Never>?
    private var serviceGroup: ServiceGroup?
    private nonisolated let boundPort = NIOLockedValueBox<Int?>(nil)

    /// A stand-in that is not listening yet; `start()` it.
    ///
    /// The schema reference is found with `GCPReference.locate()`; when it cannot be, every body
    /// check fails with the reason (so a test asserting no schema failures says why).
    public init(credentials: StandInCredentials = StandInCredentials(), knobs: StandInKnobs = StandInKnobs(),
                reference: GCPReference? = nil) {
        self.credentials = credentials
        self.knobs = knobs
        do {
            let found = try reference ?? GCPReference.locate()
            self.reference = found
            self.validator = SchemaValidator(reference: found)
            self.referenceProblem = nil
        } catch {
            self.reference = nil
            self.validator = nil
            self.referenceProblem = "\(error)"
        }
    }

    // MARK: - Lifecycle

    /// Starts listening on an ephemeral port of 127.0.0.1; returns once connections are accepted.
    public func start() async throws {
        guard serverTask == nil else { return }
        let (listening, announce) = AsyncThrowingStream<Int, Error>.makeStream()
        var logger = Logger(label: "google-api-stand-in")
        logger.logLevel = .warning
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await self.respond(to: request) },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: "google-api-stand-in"),
            onServerRunning: { channel in
                announce.yield(channel.localAddress?.port ?? 0)
                announce.finish()
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        serviceGroup = group
        serverTask = Task {
            do {
                try await group.run()
                announce.finish(throwing: StandInError(message: "the stand-in stopped before it listened"))
            } catch {
                announce.finish(throwing: error)
            }
        }
        var port = 0
        do {
            for try await announced in listening { port = announced }
        } catch {
            serverTask = nil
            serviceGroup = nil
            throw error
        }
        boundPort.withLockedValue { $0 = port }
    }

    /// Stops listening (gracefully: requests in flight are answered) and waits until the server has closed.
    public func shutdown() async throws {
        guard let task = serverTask else { return }
        serverTask = nil
        await serviceGroup?.triggerGracefulShutdown()
        serviceGroup = nil
        await task.value
        boundPort.withLockedValue { $0 = nil }
    }

    /// The port listened on; 0 before `start()` and after `shutdown()`.
    public nonisolated var port: Int { boundPort.withLockedValue { $0 } ?? 0 }

    /// `http://127.0.0.1:PORT`, the value for `SWIFTDOCK_GOOGLE_API_BASE`.
    public nonisolated var baseURL: String { "http://127.0.0.1:\(port)" }

    // MARK: - Knobs

    /// Changes the per-test behaviour, e.g. `await google.configure { $0.customJobProgression = .fails() }`.
    public func configure(_ change: @Sendable (inout StandInKnobs) -> Void) {
        change(&knobs)
    }

    /// Answers `error` instead of handling requests to `path` (a trailing `*` matches a prefix),
    /// for `method` (nil: any), `times` times (nil: until cleared). Checked before authentication.
    public func forceError(_ error: GoogleError, path: String, method: String? = nil, times: Int? = nil) {
        forcedErrors.append(ForcedError(method: method, path: path, error: error, times: times))
    }

    /// Drops every forced error.
    public func clearForcedErrors() {
        forcedErrors.removeAll()
    }

    // MARK: - Records

    /// Every request received, in arrival order (Cloud Scheduler's target calls included, marked
    /// `fromScheduler`).
    public var requests: [RecordedRequest] { log }

    /// Every request body the schema check refused; a test of well-formed calls expects none.
    public var schemaFailures: [SchemaFailure] { failures }

    /// What each Cloud Scheduler `:run` did with its job's HTTP target.
    public var scheduledRuns: [ScheduledRun] { runs }

    /// Forgets the recorded requests, schema failures and scheduled runs (resources stay).
    public func clearRecords() {
        log.removeAll()
        failures.removeAll()
        runs.removeAll()
    }

    // MARK: - Serving

    private nonisolated func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let path = request.uri.path.removingPercentEncoding ?? request.uri.path
        let incoming = IncomingRequest(method: request.method.rawValue, path: path,
                                       query: FormEncoding.decode(request.uri.query ?? ""), headers: headers,
                                       body: Data(buffer: body))
        let answer = await handle(incoming)
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=UTF-8"
        return Response(status: .init(code: answer.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.body.data)))
    }

    /// Records, delays, then answers one request.
    func handle(_ request: IncomingRequest) async -> APIResponse {
        requestCount += 1
        let number = requestCount
        log.append(RecordedRequest(method: request.method, path: request.path, query: request.query, headers: request.headers,
                                   body: request.body, json: request.body.isEmpty ? nil : JSONValue(data: request.body),
                                   responseStatus: 0, fromScheduler: request.fromScheduler, number: number))
        if knobs.responseDelay > .zero { try? await Task.sleep(for: knobs.responseDelay) }
        let answer: APIResponse
        do {
            answer = try await route(request)
        } catch let error as GoogleError {
            answer = .error(error)
        } catch {
            answer = .error(GoogleError(code: 500, status: "INTERNAL", message: "stand-in failure: \(error)"))
        }
        // Other requests may have been logged meanwhile, or the log cleared.
        if let index = log.lastIndex(where: { $0.number == number }) { log[index].responseStatus = answer.status }
        return answer
    }

    private func route(_ request: IncomingRequest) async throws -> APIResponse {
        if let index = forcedErrors.firstIndex(where: { $0.matches(method: request.method, path: request.path) }) {
            let forced = forcedErrors[index]
            if let remaining = forced.remaining { forcedErrors[index].remaining = remaining - 1 }
            if request.path == "/token" {
                return APIResponse(status: forced.error.code,
                                   body: ["error": .string(forced.error.status), "error_description": .string(forced.error.message)])
            }
            return .error(forced.error)
        }
        if request.path == "/token" {
            guard request.method == "POST" else { throw Self.noRoute(request) }
            return token(request)
        }
        guard let token = request.bearerToken, accessTokens[token] != nil else { throw GoogleError.unauthenticated }
        if request.path == Self.entriesListPath { return try await listLogEntries(request) }
        guard let resource = ResourcePath(request.path) else { throw Self.noRoute(request) }
        let json = try await checkedBody(request, resource: resource)
        switch (resource.version, resource.collection) {
        case ("v1", "customJobs"): return try customJobs(request, resource, json)
        case ("v2", "instances"): return try workbenchInstances(request, resource, json)
        case ("v2", "operations"): return try workbenchOperations(request, resource)
        case ("v1", "jobs"): return try await schedulerJobs(request, resource, json)
        default: throw Self.noRoute(request)
        }
    }

    static func noRoute(_ request: IncomingRequest) -> GoogleError {
        .notFound("The stand-in serves no \(request.method) \(request.path)")
    }

    /// The request's JSON body after the schema check of its method (`{}` when empty); nil for
    /// methods without a body. A body must be sent as `Content-Type: application/json` (a Cloud
    /// Scheduler target without that header is sent as application/octet-stream, and refused).
    private func checkedBody(_ request: IncomingRequest, resource: ResourcePath) async throws -> JSONValue? {
        guard let (document, schema) = resource.requestSchema(method: request.method) else { return nil }
        let contentType = request.headers["content-type"] ?? ""
        if !request.body.isEmpty, !contentType.lowercased().hasPrefix("application/json") {
            throw GoogleError.invalidArgument("Invalid JSON payload received. Content-Type must be application/json, got "
                + (contentType.isEmpty ? "none" : contentType) + ".")
        }
        let body = request.body.isEmpty ? Data("{}".utf8) : request.body
        try await checkSchema(body, document: document, schema: schema, request: request, context: nil)
        guard let json = JSONValue(data: body), json.objectValue != nil else {
            throw GoogleError.invalidArgument("Invalid JSON payload received. The body is not a JSON object.")
        }
        return json
    }

    /// Runs the schema check (when enabled); a failure is recorded and thrown as 400 INVALID_ARGUMENT
    /// carrying the validator's first problem. `context` says where an embedded body came from.
    func checkSchema(_ body: Data, document: String, schema: String, request: IncomingRequest, context: String?) async throws {
        guard knobs.validateBodies else { return }
        let label = "\(document) \(schema)" + (context.map { " (\($0))" } ?? "")
        let outcome: SchemaValidator.Outcome
        if let validator {
            outcome = await validator.check(body, document: document, schema: schema)
        } else {
            let message = "no schema reference: \(referenceProblem ?? "unknown")"
            outcome = SchemaValidator.Outcome(passed: false, firstProblem: message, output: message)
        }
        guard !outcome.passed else { return }
        let problem = outcome.firstProblem ?? "schema check failed"
        failures.append(SchemaFailure(method: request.method, path: request.path, schema: label, message: problem,
                                      output: outcome.output))
        throw GoogleError.invalidArgument((context.map { "\($0): " } ?? "") + problem)
    }
}
