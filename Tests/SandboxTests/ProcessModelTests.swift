import ImageModel
import Sandbox
import XCTest

/// The process model against docker's rules, without a sandbox: users and groups (runc's
/// lookup), argv (ENTRYPOINT/CMD overrides), environment merging, working directory.
final class ProcessModelTests: XCTestCase {
    let users = UserDatabase(
        passwd: Array("""
            root:x:0:0:root:/root:/bin/sh
            daemon:x:1:1::/usr/sbin:/usr/sbin/nologin
            jupyter:x:1000:100::/home/jupyter:/bin/bash
            svc:x:2001:2002::/srv:/bin/sh
            toor:x:0:0::/toor:/bin/sh

            """.utf8),
        group: Array("""
            root:x:0:
            bin:x:1:root,daemon
            users:x:100:jupyter
            docker:x:999:jupyter,svc
            svc:x:2002:
            staff:x:50:

            """.utf8))

    func testUserResolution() throws {
        let cases: [(spec: String, uid: UInt32, gid: UInt32, groups: [UInt32], home: String)] = [
            ("", 0, 0, [1], "/root"),                 // no USER: uid 0, looked up (docker, BuildKit)
            ("root", 0, 0, [1], "/root"),
            ("0", 0, 0, [1], "/root"),
            ("jupyter", 1000, 100, [100, 999], "/home/jupyter"),
            ("1000", 1000, 100, [100, 999], "/home/jupyter"),
            ("jupyter:", 1000, 100, [100, 999], "/home/jupyter"),
            ("1000:50", 1000, 50, [], "/home/jupyter"),     // both numbers: no lookup but HOME
            ("jupyter:staff", 1000, 50, [], "/home/jupyter"), // an explicit group: no supplementary groups
            ("jupyter:50", 1000, 50, [], "/home/jupyter"),
            ("svc:users", 2001, 100, [], "/srv"),
            ("4242", 4242, 0, [], "/"),                     // no passwd entry: gid 0, HOME /
            ("4242:4343", 4242, 4343, [], "/"),
            ("toor", 0, 0, [], "/root"),                    // HOME follows the uid's first entry
        ]
        for c in cases {
            let user = try users.processUser(c.spec)
            XCTAssertEqual(user, ProcessUser(uid: c.uid, gid: c.gid, supplementaryGroups: c.groups, home: c.home), c.spec)
        }
        XCTAssertEqual(try UserDatabase.empty.processUser(""), ProcessUser(uid: 0, gid: 0, supplementaryGroups: [], home: "/"))
        XCTAssertEqual(try UserDatabase.empty.processUser("7:8"), ProcessUser(uid: 7, gid: 8, supplementaryGroups: [], home: "/"))
    }

    func testUserErrors() {
        let cases: [(UserDatabase, String, String)] = [
            (users, "ghost", "unable to find user ghost: no matching entries in passwd file"),
            (users, "jupyter:wheel", "unable to find group wheel: no matching entries in group file"),
            (users, "4242:wheel", "unable to find group wheel: no matching entries in group file"),
            (.empty, "jupyter", "unable to find user jupyter: no matching entries in passwd file"),
            (users, "-1", "user ID -1 is out of range (0…4294967294)"),
            (users, "0:4294967295", "group ID 4294967295 is out of range (0…4294967294)"),
        ]
        for (db, spec, message) in cases {
            XCTAssertThrowsError(try db.processUser(spec), spec) { XCTAssertEqual("\($0)", message, spec) }
        }
    }

    func config(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil, user: String? = nil,
                workingDir: String? = nil) -> ContainerConfig {
        var config = ContainerConfig()
        config.entrypoint = entrypoint
        config.cmd = cmd
        config.env = env
        config.user = user
        config.workingDir = workingDir
        return config
    }

    func testArgv() throws {
        let both = config(entrypoint: ["/ep", "-x"], cmd: ["c1"])
        let cmdOnly = config(cmd: ["sh"])
        let cases: [(ContainerConfig, ProcessModel.Command, [String]?)] = [
            (both, .image(entrypoint: nil, arguments: nil), ["/ep", "-x", "c1"]),
            (both, .image(entrypoint: nil, arguments: ["a"]), ["/ep", "-x", "a"]),       // run IMAGE a
            (both, .image(entrypoint: ["/x"], arguments: nil), ["/x"]),                  // --entrypoint drops CMD
            (both, .image(entrypoint: ["/x"], arguments: ["a"]), ["/x", "a"]),
            (both, .image(entrypoint: [], arguments: ["a"]), ["a"]),                     // --entrypoint ""
            (both, .image(entrypoint: [], arguments: nil), nil),
            (cmdOnly, .image(entrypoint: nil, arguments: nil), ["sh"]),
            (cmdOnly, .image(entrypoint: nil, arguments: ["id", "-u"]), ["id", "-u"]),
            (config(), .image(entrypoint: nil, arguments: nil), nil),
            (both, .explicit(["/bin/sh", "-c", "make"]), ["/bin/sh", "-c", "make"]),     // RUN
            (both, .explicit([]), nil),
        ]
        for (image, command, expected) in cases {
            let request = ProcessModel.Request(image: image, command: command)
            if let expected {
                XCTAssertEqual(try ProcessModel(request, users: users).argv, expected, "\(command)")
            } else {
                XCTAssertThrowsError(try ProcessModel(request, users: users), "\(command)") {
                    XCTAssertEqual($0 as? ProcessModelError, .noCommand)
                }
            }
        }
    }

    func testEnvironment() throws {
        let path = "PATH=\(ProcessModel.defaultPath)"
        let cases: [(image: [String]?, defaults: [String], overrides: [String], user: String?, expected: [String])] = [
            (nil, [], [], nil, [path, "HOME=/root"]),
            (["PATH=/x", "A=1"], [], ["A=2", "B=3"], nil, ["PATH=/x", "A=2", "B=3", "HOME=/root"]),  // replaced in place
            (["A=1", "B=2"], [], ["A"], nil, ["B=2", path, "HOME=/root"]),                          // bare -e K unsets
            (["HOME=/h"], [], [], "jupyter", ["HOME=/h", path]),                                    // HOME only if unset
            ([], [], [], "jupyter", [path, "HOME=/home/jupyter"]),
            ([], [], [], "4242", [path, "HOME=/"]),
            (["A=1"], ["A=arg", "C=arg", "C=proxy"], [], nil, ["A=1", "C=arg", path, "HOME=/root"]), // build args never override
            (["A=1"], ["S=arg"], ["S=secret"], nil, ["A=1", "S=secret", path, "HOME=/root"]),        // RUN secrets do
            ([], [], ["PATH=/only"], nil, ["PATH=/only", "HOME=/root"]),
            (["A=1", "A=2"], [], ["A=3"], nil, ["A=3", path, "HOME=/root"]),
        ]
        for c in cases {
            let request = ProcessModel.Request(image: config(cmd: ["sh"], env: c.image, user: c.user), command: .image(entrypoint: nil, arguments: nil),
                                               defaultEnvironment: c.defaults, environment: c.overrides)
            XCTAssertEqual(try ProcessModel(request, users: users).environment, c.expected, "\(c)")
        }
        // docker's run adds HOSTNAME unless Env or -e sets it; RUN (no hostname given) does not.
        let hostnames: [(image: [String], overrides: [String], expected: [String])] = [
            ([], [], [path, "HOME=/root", "HOSTNAME=c0ffee"]),
            (["HOSTNAME=img"], [], ["HOSTNAME=img", path, "HOME=/root"]),
            ([], ["HOSTNAME=mine"], ["HOSTNAME=mine", path, "HOME=/root"]),
        ]
        for c in hostnames {
            let request = ProcessModel.Request(image: config(cmd: ["sh"], env: c.image), command: .image(entrypoint: nil, arguments: nil),
                                               environment: c.overrides, hostname: "c0ffee")
            XCTAssertEqual(try ProcessModel(request, users: users).environment, c.expected, "\(c)")
        }
        // docker's run -t adds TERM=xterm unless Env or -e sets it; a bare -e TERM (not set on the
        // host) removes it, as moby's ReplaceOrAppendEnvValues does; no -t, no TERM.
        let terminals: [(terminal: Bool, image: [String], overrides: [String], expected: [String])] = [
            (true, [], [], ["TERM=xterm", path, "HOME=/root"]),
            (false, [], [], [path, "HOME=/root"]),
            (true, ["TERM=vt100"], [], ["TERM=vt100", path, "HOME=/root"]),
            (true, [], ["TERM=dumb"], ["TERM=dumb", path, "HOME=/root"]),
            (true, ["TERM=vt100"], ["TERM=dumb"], ["TERM=dumb", path, "HOME=/root"]),
            (true, [], ["TERM"], [path, "HOME=/root"]),
        ]
        for c in terminals {
            let request = ProcessModel.Request(image: config(cmd: ["sh"], env: c.image), command: .image(entrypoint: nil, arguments: nil),
                                               environment: c.overrides, terminal: c.terminal)
            XCTAssertEqual(try ProcessModel(request, users: users).environment, c.expected, "\(c)")
        }
        let bad = ProcessModel.Request(image: config(cmd: ["sh"]), command: .image(entrypoint: nil, arguments: nil), environment: ["=x"])
        XCTAssertThrowsError(try ProcessModel(bad, users: users)) { XCTAssertEqual("\($0)", "invalid environment variable: =x") }
    }

    func testHostEnvironmentForBareNames() {
        let host = ["TOKEN": "t0k", "EMPTY": ""]
        let cases: [(String, String)] = [("TOKEN", "TOKEN=t0k"), ("EMPTY", "EMPTY="), ("MISSING", "MISSING"), ("A=b", "A=b"), ("TOKEN=x", "TOKEN=x")]
        for (given, expected) in cases { XCTAssertEqual(ProcessEnvironment.resolvingFromHost(given, host: host), expected, given) }
    }

    func testWorkingDirectoryAndUserOverrides() throws {
        let cases: [(image: String?, given: String?, expected: String?)] = [
            (nil, nil, "/"), ("", nil, "/"), ("/srv", nil, "/srv"), ("/srv", "/opt", "/opt"),
            (nil, "/a/../b/./c/", "/b/c"), (nil, "/..", "/"), (nil, "rel", nil), ("rel", nil, nil),
        ]
        for c in cases {
            let request = ProcessModel.Request(image: config(cmd: ["sh"], workingDir: c.image), command: .image(entrypoint: nil, arguments: nil),
                                               workingDirectory: c.given)
            if let expected = c.expected {
                XCTAssertEqual(try ProcessModel(request, users: users).workingDirectory, expected, "\(c)")
            } else {
                XCTAssertThrowsError(try ProcessModel(request, users: users), "\(c)") {
                    XCTAssertEqual($0 as? ProcessModelError, .relativeWorkingDirectory(c.given ?? c.image ?? ""))
                }
            }
        }
        // -u replaces the image's USER.
        let request = ProcessModel.Request(image: config(cmd: ["sh"], user: "svc"), command: .image(entrypoint: nil, arguments: nil), user: "jupyter")
        XCTAssertEqual(try ProcessModel(request, users: users).user.uid, 1000)
        let imageUser = ProcessModel.Request(image: config(cmd: ["sh"], user: "svc"), command: .image(entrypoint: nil, arguments: nil))
        XCTAssertEqual(try ProcessModel(imageUser, users: users).user, ProcessUser(uid: 2001, gid: 2002, supplementaryGroups: [999], home: "/srv"))
    }
}
