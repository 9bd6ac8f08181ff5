import Foundation
import XCTest
@testable import ImageBuilder

/// `--secret`, `--ssh` and `RUN --mount=type=secret|ssh` as BuildKit and buildx read them.
final class BuildSecretTests: XCTestCase {
    func testSecretFlagForms() throws {
        let environment = ["TOKEN": "from-env", "HOME": "/root"]
        let cases: [(String, BuildSecret)] = [
            ("id=a,src=/f", BuildSecret(id: "a", source: .file("/f"))),
            ("id=a,source=/f", BuildSecret(id: "a", source: .file("/f"))),
            ("ID=a,SRC=/f", BuildSecret(id: "a", source: .file("/f"))),
            ("id=a,env=VAR", BuildSecret(id: "a", source: .environment("VAR"))),
            ("id=a,type=env,src=VAR", BuildSecret(id: "a", source: .environment("VAR"))),
            ("id=a,type=file,src=/f", BuildSecret(id: "a", source: .file("/f"))),
            // BuildKit's secrets provider: an id alone is the variable of that name when set, else the file.
            ("id=TOKEN", BuildSecret(id: "TOKEN", source: .environment("TOKEN"))),
            ("id=token.txt", BuildSecret(id: "token.txt", source: .file("token.txt"))),
            ("id=gcp-token,type=google-token", BuildSecret(id: "gcp-token", source: .googleToken)),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try BuildSecret.parse(text, environment: environment), expected, text)
        }
        let bad: [(String, String)] = [
            ("src=/f", "--secret src=/f: secret missing ID"),
            ("id=a,src", "--secret id=a,src: invalid field 'src' must be a key=value pair"),
            ("id=a,type=vault", "--secret id=a,type=vault: unsupported secret type \"vault\" (file, env or google-token)"),
            ("id=a,path=/f", "--secret id=a,path=/f: unexpected key 'path' in 'path=/f'"),
            ("id=a,type=google-token,src=/f", "--secret id=a,type=google-token,src=/f: type=google-token takes no src or env"),
        ]
        for (text, message) in bad {
            XCTAssertThrowsError(try BuildSecret.parse(text, environment: environment), text) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    func testSecretReadNamesTheFlagNeverTheValue() throws {
        let dir = NSTemporaryDirectory() + "secret-read-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("file-value".utf8).write(to: URL(fileURLWithPath: dir + "/s"))
        try Data(repeating: 65, count: BuildSecret.maximumSize + 1).write(to: URL(fileURLWithPath: dir + "/big"))
        XCTAssertEqual(try BuildSecret(id: "a", source: .file(dir + "/s")).read(environment: [:]).bytes, Array("file-value".utf8))
        XCTAssertEqual(try BuildSecret(id: "a", source: .environment("V")).read(environment: ["V": "v"]).bytes, [118])
        let failures: [(BuildSecret, String)] = [
            (BuildSecret(id: "a", source: .file(dir + "/missing")), "--secret id=a: open \(dir)/missing: no such file or directory"),
            (BuildSecret(id: "a", source: .file(dir)), "--secret id=a: \(dir) is a directory"),
            (BuildSecret(id: "a", source: .file(dir + "/big")), "--secret id=a: secret too big (max size 500KB)"),
            (BuildSecret(id: "a", source: .environment("UNSET")), "--secret id=a: environment variable UNSET is not set"),
        ]
        for (secret, message) in failures {
            XCTAssertThrowsError(try secret.read(environment: [:])) { XCTAssertEqual("\($0)", message) }
        }
        let value = try SecretValue(Array("hunter2".utf8), id: "a")
        for shown in ["\(value)", String(reflecting: value), { var s = ""; dump(value, to: &s); return s }()] {
            XCTAssertFalse(shown.contains("hunter2"), shown)
        }
    }

    func testSSHFlagForms() throws {
        let cases: [(String, SSHSpec)] = [
            ("default", SSHSpec(id: "default", paths: [])),
            ("default=/run/agent.sock", SSHSpec(id: "default", paths: ["/run/agent.sock"])),
            ("github=/k1,/k2", SSHSpec(id: "github", paths: ["/k1", "/k2"])),
        ]
        for (text, expected) in cases { XCTAssertEqual(try SSHSpec.parse(text), expected, text) }
        XCTAssertThrowsError(try SSHSpec.parse("=/k"))
        XCTAssertThrowsError(try SSHSpec(id: "default", paths: []).source(environment: [:])) {
            XCTAssertTrue("\($0)".hasPrefix("--ssh default: SSH_AUTH_SOCK is not set"), "\($0)")
        }
        XCTAssertThrowsError(try SSHSpec(id: "x", paths: ["/nonexistent/key"]).source(environment: [:])) {
            XCTAssertEqual("\($0)", "--ssh x: /nonexistent/key: No such file or directory")
        }
        XCTAssertEqual(try SSHSpec(id: "x", paths: ["/etc/hostname"]).source(environment: [:]), .keys(["/etc/hostname"]))
    }

    func testSecretAndSSHMounts() throws {
        let cases: [(String, RunMount)] = [
            ("type=secret,id=tok", RunMount(kind: .secret, target: "/run/secrets/tok", source: nil, from: nil, readOnly: true, id: "tok")),
            ("type=secret,target=/root/.netrc", RunMount(kind: .secret, target: "/root/.netrc", source: nil, from: nil, readOnly: true, id: ".netrc")),
            ("type=secret,source=tok", RunMount(kind: .secret, target: "/run/secrets/tok", source: nil, from: nil, readOnly: true, id: "tok")),
            ("type=secret,id=tok,env=TOKEN", RunMount(kind: .secret, target: "", source: nil, from: nil, readOnly: true, id: "tok", env: "TOKEN")),
            ("type=secret,id=tok,env=TOKEN,target=/t,required,mode=0440,uid=5,gid=6",
             RunMount(kind: .secret, target: "/t", source: nil, from: nil, readOnly: true, id: "tok", env: "TOKEN",
                      required: true, mode: 0o440, uid: 5, gid: 6)),
            ("type=secret,id=tok,required=false", RunMount(kind: .secret, target: "/run/secrets/tok", source: nil, from: nil, readOnly: true, id: "tok")),
            ("type=ssh", RunMount(kind: .ssh, target: "", source: nil, from: nil, readOnly: true, id: "default")),
            ("type=ssh,id=github,target=/agent,required=true",
             RunMount(kind: .ssh, target: "/agent", source: nil, from: nil, readOnly: true, id: "github", required: true)),
        ]
        for (text, expected) in cases { XCTAssertEqual(try RunMount.parse(text), expected, text) }
        for bad in ["type=secret", "type=secret,id=a,source=b", "type=secret,id=a,mode=9", "type=secret,id=a,uid=-1",
                    "type=secret,id=a,required=maybe", "type=secret,id=a,target=relative", "type=ssh,from=stage"] {
            XCTAssertThrowsError(try RunMount.parse(bad), bad)
        }
    }
}
