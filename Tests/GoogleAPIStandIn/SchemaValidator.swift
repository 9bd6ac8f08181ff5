import Foundation
import TestSupport

/// Checks JSON bodies against a schema of Google's discovery documents with `gcp_validate.py`
/// (`python3 gcp_validate.py DOC SCHEMA - [--strict]`, the body on standard input).
public struct SchemaValidator: Sendable {
    /// What the validator said of one body.
    public struct Outcome: Sendable, Equatable {
        public var passed: Bool
        /// The first `ERROR` line (else the first `WARN` line, else the last line printed); nil when passed.
        public var firstProblem: String?
        /// Standard output and standard error, as printed.
        public var output: String
    }

    public var reference: GCPReference
    /// With `--strict`, warnings (output-only fields, snake_case names, int64 as numbers, nulls)
    /// fail too. Google's examples pass it, and swiftdock's bodies should.
    public var strict: Bool
    /// The interpreter, looked up in PATH unless absolute.
    public var python: String

    public init(reference: GCPReference, strict: Bool = true, python: String = "python3") {
        self.reference = reference
        self.strict = strict
        self.python = python
    }

    /// Checks `body` against `schema` (a schema id, a unique suffix such as `CustomJob`, or a method
    /// id, which selects that method's request schema) of the discovery document `document`.
    /// `response: true` checks an answer instead (`--response`: output-only fields expected, no
    /// required fields; a method id then selects the method's response schema).
    ///
    /// Runs the script on a Dispatch thread, so waiting never holds a Swift concurrency thread.
    public func check(_ body: Data, document: String, schema: String, response: Bool = false) async -> Outcome {
        var arguments = [reference.validator.path, reference.document(document).path, schema, "-"]
        if strict { arguments.append("--strict") }
        if response { arguments.append("--response") }
        let python = self.python, command = arguments
        let result: Result<ChildProcessResult, Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { try runChildProcess(python, command, input: body) })
            }
        }
        switch result {
        case .failure(let error):
            let message = "could not run \(python) \(reference.validator.path): \(error)"
            return Outcome(passed: false, firstProblem: message, output: message)
        case .success(let run):
            let output = run.stdoutText + run.stderrText
            guard run.status != 0 else { return Outcome(passed: true, firstProblem: nil, output: output) }
            let lines = output.split(whereSeparator: \.isNewline).map(String.init)
            let problem = lines.first { $0.hasPrefix("ERROR") } ?? lines.first { $0.hasPrefix("WARN") }
                ?? lines.last ?? "\(python) exited with status \(run.status) and printed nothing"
            return Outcome(passed: false, firstProblem: problem, output: output)
        }
    }
}
