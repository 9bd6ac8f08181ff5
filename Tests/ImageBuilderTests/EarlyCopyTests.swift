import BuildContext
import DockerfileSyntax
import Foundation
@testable import Layers
import XCTest
@testable import ImageBuilder

/// Issue 13: a COPY after a RUN is planned (and its layer written) while the RUN runs, against
/// the view from before it (`EarlyCopy`). The step may adopt that plan only when planning
/// then, over the view the RUN left, would make the very same items; every RUN shape that
/// changes what the plan reads must make the step plan again.
final class EarlyCopyTests: XCTestCase {
    private var context = ""

    override func setUpWithError() throws {
        context = NSTemporaryDirectory() + "swiftdock-early-\(UUID().uuidString)"
        let fm = FileManager.default
        for dir in ["tree/sub/deeper", "tree/empty"] {
            try fm.createDirectory(atPath: context + "/" + dir, withIntermediateDirectories: true)
        }
        for (name, text) in [("tree/a.txt", "a\n"), ("tree/sub/b.txt", "b\n"), ("tree/sub/deeper/c", "c"), ("one.txt", "1\n")] {
            try text.write(toFile: context + "/" + name, atomically: false, encoding: .utf8)
        }
        try fm.createSymbolicLink(atPath: context + "/tree/link", withDestinationPath: "a.txt")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: context)
    }

    private static func dir(_ path: String, _ mode: UInt32 = 0o755) -> LayerItem {
        .entry(LayerEntry(path: path, kind: .directory, mode: mode, mtimeSeconds: 1))
    }

    private static func file(_ path: String) -> LayerItem {
        .entry(LayerEntry(path: path, kind: .regularFile(.bytes(Array("x\n".utf8))), mode: 0o644, mtimeSeconds: 1))
    }

    private static func symlink(_ path: String, to target: String) -> LayerItem {
        .entry(LayerEntry(path: path, kind: .symlink(target: target), mode: 0o777, mtimeSeconds: 1))
    }

    /// What the base holds: `/etc/passwd`, `/srv/old`, `/bin`.
    private static let base: [LayerItem] = [dir("bin"), dir("etc"), file("etc/passwd"), dir("srv"), file("srv/old")]

    /// Each RUN shape as the items its layer adds (the view after it is the base's plus
    /// these), and whether the early plan must stand.
    func testTheEarlyPlanIsAdoptedExactlyWhenPlanningAfterTheRunGivesTheSameItems() async throws {
        let cases: [(name: String, copy: CopyInstruction, run: [LayerItem], stands: Bool)] = [
            ("RUN writes elsewhere", CopyInstruction(sources: ["tree"], destination: "/opt/sp"), [Self.file("prepared")], true),
            ("RUN mkdir -m 700 /opt", CopyInstruction(sources: ["tree"], destination: "/opt/sp"), [Self.dir("opt", 0o700)], false),
            ("RUN ln -s /x /opt", CopyInstruction(sources: ["tree"], destination: "/opt/sp"),
             [Self.dir("x"), Self.symlink("opt", to: "/x")], false),
            ("RUN mkdir -p /opt/sp", CopyInstruction(sources: ["tree"], destination: "/opt/sp"),
             [Self.dir("opt"), Self.dir("opt/sp")], false),
            ("RUN rm -rf /etc", CopyInstruction(sources: ["tree"], destination: "/etc/app"), [Self.file(".wh.etc")], false),
            ("RUN adds a sibling of the destination", CopyInstruction(sources: ["tree"], destination: "/srv/app"),
             [Self.file("srv/new")], true),
            ("RUN turns the destination from a file into a directory", CopyInstruction(sources: ["tree/"], destination: "/srv/old/"),
             [Self.dir("srv/old")], true),
            ("RUN removes the destination's file", CopyInstruction(sources: ["one.txt"], destination: "/srv/old"),
             [Self.file("srv/.wh.old")], true),
            ("one file into a directory the RUN made", CopyInstruction(sources: ["one.txt"], destination: "/opt"),
             [Self.dir("opt")], false),
            ("one file, RUN elsewhere", CopyInstruction(sources: ["one.txt"], destination: "/opt"), [Self.file("prepared")], true),
            ("--chown and --chmod into the root", CopyInstruction(sources: ["tree"], destination: "/", chown: "7:8", chmod: "640"),
             [Self.dir("opt", 0o700)], true),
        ]
        let directory = try ContextDirectory.buildContext(root: context, dockerfilePath: context + "/Dockerfile")
        var before = FilesystemView()
        before.apply(Self.base, layer: 0)
        for c in cases {
            var after = before
            after.apply(c.run, layer: 1)
            let owner = c.copy.chown == nil ? nil : Owner(uid: 7, gid: 8)
            let chmod = try c.copy.chmod.map { try FileModeChange(parsing: $0) }
            func planner(_ view: FilesystemView) -> CopyPlanner {
                CopyPlanner(instruction: c.copy, isAdd: false, source: .init(directory: directory, owners: nil), workdir: "/",
                            view: view, owner: owner, chmod: chmod, now: 1_700_000_000)
            }
            var sequential = planner(after)
            let expected = try sequential.plan()
            var beforeRun = planner(before)
            let early = EarlyCopy(instruction: Self.instruction, planner: planner(before))
            let adopted = await early.planned(matching: planner(after))
            XCTAssertEqual(adopted != nil, c.stands, c.name)
            // A plan the view could not have told apart must stand: dropping is for plans that differ.
            XCTAssertEqual(try beforeRun.plan() == expected, c.stands, "\(c.name): the early plan differs exactly when dropped")
            if let adopted {
                XCTAssertEqual(adopted.items, expected, c.name)
                XCTAssertEqual(adopted.planner.plannedStamps, sequential.plannedStamps, c.name)
                XCTAssertTrue(adopted.planner.streamedInOrder, c.name)
                early.stream.finish()
                var streamed: [LayerItem] = []
                var index = 0
                while let chunk = try early.stream.chunk(index) { streamed += chunk; index += 1 }
                XCTAssertEqual(streamed, expected, "\(c.name): the layer is written from the items planned after the RUN")
            } else {
                XCTAssertThrowsError(try early.stream.forEach { _ in }, "\(c.name): a dropped early plan's layer write fails")
            }
        }
    }

    /// The step's own inputs must be the early plan's: another working directory, mode change
    /// or owner drops it, whatever the view says.
    func testOtherInputsAtTheStepDropTheEarlyPlan() async throws {
        let directory = try ContextDirectory.buildContext(root: context, dockerfilePath: context + "/Dockerfile")
        let copy = CopyInstruction(sources: ["tree"], destination: "sp")
        func planner(workdir: String = "/w", owner: Owner? = nil, chmod: String? = nil) throws -> CopyPlanner {
            CopyPlanner(instruction: copy, isAdd: false, source: .init(directory: directory, owners: nil), workdir: workdir,
                        view: FilesystemView(), owner: owner, chmod: try chmod.map { try FileModeChange(parsing: $0) },
                        now: 1_700_000_000)
        }
        let steps: [(name: String, planner: CopyPlanner, stands: Bool)] = [
            ("the same", try planner(), true),
            ("another WORKDIR", try planner(workdir: "/v"), false),
            ("an owner", try planner(owner: Owner(uid: 1, gid: 1)), false),
            ("a mode change", try planner(chmod: "600"), false),
        ]
        for step in steps {
            let early = EarlyCopy(instruction: Self.instruction, planner: try planner())
            let adopted = await early.planned(matching: step.planner)
            XCTAssertEqual(adopted != nil, step.stands, step.name)
            if adopted == nil { XCTAssertTrue(early.stream.hasEnded, step.name) }
        }
    }

    /// A RUN that names the top directory the COPY writes below is not overlapped (its plan
    /// would likely be dropped); others are.
    func testARunNamingTheDestinationsTopDirectoryStartsNoEarlyCopy() {
        let cases: [(run: String, destination: String, workdir: String, shapes: Bool)] = [
            ("RUN mkdir -p /opt/app", "/opt/app", "/", true),
            ("RUN ln -s /data /opt", "/opt/app/", "/", true),
            ("RUN cd /app && make", ".", "/app", true),
            ("RUN echo prepared > /prepared", "/opt/sp", "/", false),
            ("RUN pip install -r /tmp/requirements.txt", "/app/", "/", false),
            ("RUN anything", "/", "/", false),
        ]
        for c in cases {
            XCTAssertEqual(StageExecutor.runMayShape(c.run, destination: c.destination, workdir: c.workdir), c.shapes, c.run)
        }
    }

    private static let instruction = Instruction(location: SourceLocation(file: "Dockerfile", line: 3), keyword: "COPY",
                                                 original: "COPY tree /opt/sp", kind: .copy(CopyInstruction(sources: ["tree"], destination: "/opt/sp")))
}
