import Foundation
import TemporaryDirectories
import TestSupport
import Vertex
import XCTest

/// Runs the script `--notebook` puts in the CustomJob with the host's /bin/sh, a fake
/// `ipython`/`jupyter` on PATH and a temporary directory standing in for Vertex's /gcs mount.
final class NotebookRunTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = try makeTemporaryDirectory("notebook-run")
        for dir in ["bin", "gcs", "Sourcecode"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        try Data("label,text\n".utf8).write(to: URL(fileURLWithPath: "\(root)/Sourcecode/input.csv"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(root)/Sourcecode/main.ipynb"))
        // Leave a second between the old files and the run, so "written by the run" is unambiguous.
        let past = Date().addingTimeInterval(-10)
        for file in ["input.csv", "main.ipynb"] {
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: "\(root)/Sourcecode/\(file)")
        }
    }

    /// A fake program that records how it was called and writes what a notebook would.
    func fake(_ name: String, exitCode: Int) throws {
        let script = """
            #!/bin/sh
            echo "$0 $*" >> "\(root)/calls"
            [ "$1" = nbconvert ] && [ "$2" = --version ] && exit 0
            echo "label,count" > output.csv
            mkdir -p plots .ipynb_checkpoints
            echo png > plots/counts.png
            echo x > .ipynb_checkpoints/main-checkpoint.ipynb
            exit \(exitCode)
            """
        let path = "\(root)/bin/\(name)"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    func run(_ notebook: NotebookRun) throws -> ChildProcessResult {
        let (command, args) = try notebook.containerCommand()
        XCTAssertEqual(command, ["/bin/sh", "-c"])
        XCTAssertEqual(args.count, 1)
        return try runChildProcess(command[0], [command[1], args[0]],
                                   environment: ["PATH": "\(root)/bin:/usr/bin:/bin", "TMPDIR": root])
    }

    func testIPythonRunsTheNotebookAndWhatItWroteIsKept() throws {
        try fake("ipython", exitCode: 0)
        let result = try run(NotebookRun(notebook: "\(root)/Sourcecode/main.ipynb", outputs: "gs://tweets/nightly/", fuseRoot: "\(root)/gcs"))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let kept = "\(root)/gcs/tweets/nightly"
        XCTAssertEqual(try String(contentsOfFile: "\(kept)/output.csv", encoding: .utf8), "label,count\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(kept)/plots/counts.png"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(kept)/input.csv"), "unchanged inputs are not copied")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(kept)/.ipynb_checkpoints"), "hidden directories are not copied")
        XCTAssertTrue(result.stdoutText.contains("kept output.csv in gs://tweets/nightly/"), result.stdoutText)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/calls", encoding: .utf8), "\(root)/bin/ipython main.ipynb\n")
    }

    func testJupyterNbconvertIsPreferredWhenTheImageHasIt() throws {
        try fake("jupyter", exitCode: 0)
        let result = try run(NotebookRun(notebook: "main.ipynb", workdir: "\(root)/Sourcecode", outputs: "gs://tweets", fuseRoot: "\(root)/gcs"))
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/calls", encoding: .utf8),
                       "\(root)/bin/jupyter nbconvert --version\n"
                       + "\(root)/bin/jupyter nbconvert --to notebook --execute --output executed-main.ipynb main.ipynb\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/gcs/tweets/output.csv"))
    }

    func testAFailingNotebookFailsTheJobButItsOutputsAreStillKept() throws {
        try fake("ipython", exitCode: 3)
        let result = try run(NotebookRun(notebook: "\(root)/Sourcecode/main.ipynb", outputs: "gs://tweets/failed", fuseRoot: "\(root)/gcs"))
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/gcs/tweets/failed/output.csv"))
    }

    func testWithoutOutputsNothingIsCopied() throws {
        try fake("ipython", exitCode: 0)
        let result = try run(NotebookRun(notebook: "\(root)/Sourcecode/main.ipynb", fuseRoot: "\(root)/gcs"))
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(root)/gcs"), [])
    }

    func testPathsWithSpacesAndQuotesAreQuoted() throws {
        let odd = "\(root)/Source code's"
        try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
        try fake("ipython", exitCode: 0)
        let result = try run(NotebookRun(notebook: "\(odd)/my notebook.ipynb", outputs: "gs://tweets/x", fuseRoot: "\(root)/gcs"))
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/calls", encoding: .utf8), "\(root)/bin/ipython my notebook.ipynb\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(odd)/output.csv"))
    }

    func testParametersRunPapermillWithEachParameterAndTheFile() throws {
        try fake("papermill", exitCode: 0)
        try fake("jupyter", exitCode: 0)
        let result = try run(NotebookRun(notebook: "\(root)/Sourcecode/main.ipynb", outputs: "gs://tweets/p", fuseRoot: "\(root)/gcs",
                                         parameters: [.init(name: "day", value: "2026-12-06"), .init(name: "note", value: "it's")],
                                         parametersYAML: "limit: 5"))
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/calls", encoding: .utf8),
                       "\(root)/bin/papermill main.ipynb executed-main.ipynb -y limit: 5 -p day 2026-12-06 -p note it's\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/gcs/tweets/p/output.csv"))
    }

    func testParametersWithoutPapermillFailTheJobAndSaySo() throws {
        try fake("jupyter", exitCode: 0)
        let result = try run(NotebookRun(notebook: "\(root)/Sourcecode/main.ipynb", fuseRoot: "\(root)/gcs",
                                         parameters: [.init(name: "day", value: "1")]))
        XCTAssertEqual(result.status, 127)
        XCTAssertTrue(result.stderrText.contains("swiftdock: --parameters needs papermill, and this image has none (pip install papermill)"),
                      result.stderrText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/calls"), "nbconvert must not run the notebook without its parameters")
    }
}
