import GoTemplate
import XCTest

/// The template subset docker users write, checked against what Go's text/template (as docker
/// runs it) prints for the same data.
final class GoTemplateTests: XCTestCase {
    /// A document shaped like a slice of docker's `image inspect`.
    let document: TemplateValue = .object([
        TemplateField("Id", .string("sha256:abc")),
        TemplateField("RepoTags", .strings(["app:1", "app:latest"])),
        TemplateField("Size", .int(1234)),
        TemplateField("Config", .object([
            TemplateField("Env", .strings(["PATH=/bin", "A=b c"])),
            TemplateField("Cmd", .strings(["sh"])),
            TemplateField("Entrypoint", .strings(nil)),
            TemplateField("User", .string("")),
            TemplateField("Labels", .stringMap(["maintainer": "me", "version": "2"])),
            TemplateField("Volumes", .map(nil)),
            TemplateField("ExposedPorts", .map(["80/tcp": .object([])]), omitEmpty: true),
            TemplateField("Healthcheck", .null, omitEmpty: true),
            TemplateField("ArgsEscaped", .bool(false), omitEmpty: true),
        ])),
        TemplateField("RootFS", .object([TemplateField("Type", .string("layers")), TemplateField("Layers", .strings(["sha256:1", "sha256:2"]))])),
    ])

    func testRendering() throws {
        let cases: [(String, String)] = [
            ("{{.Id}}", "sha256:abc"),
            ("id={{ .Id }}!", "id=sha256:abc!"),
            ("{{.Size}}", "1234"),
            ("{{.Config.Env}}", "[PATH=/bin A=b c]"),
            ("{{.Config.Entrypoint}}", "[]"),
            ("{{json .Config.Entrypoint}}", "null"),
            ("{{.Config.Labels}}", "map[maintainer:me version:2]"),
            ("{{.Config.Volumes}}", "map[]"),
            ("{{.Config.ExposedPorts}}", "map[80/tcp:{}]"),
            ("{{.Config.Healthcheck}}", "<nil>"),
            ("{{.RootFS}}", "{layers [sha256:1 sha256:2]}"),
            ("{{.Config.Labels.nosuch}}", "<no value>"),
            ("{{index .Config.Labels \"maintainer\"}}", "me"),
            ("{{index .Config.Labels \"nosuch\"}}", ""),
            ("{{index .RepoTags 1}}", "app:latest"),
            ("{{json .Config.Env}}", #"["PATH=/bin","A=b c"]"#),
            ("{{json .Config.Labels}}", #"{"maintainer":"me","version":"2"}"#),
            ("{{json .Config}}", #"{"Env":["PATH=/bin","A=b c"],"Cmd":["sh"],"Entrypoint":null,"User":"","Labels":{"maintainer":"me","version":"2"},"Volumes":null,"ExposedPorts":{"80/tcp":{}}}"#),
            ("{{.Config.Env | json}}", #"["PATH=/bin","A=b c"]"#),
            ("{{range .RepoTags}}<{{.}}>{{end}}", "<app:1><app:latest>"),
            ("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", "0=app:1 1=app:latest "),
            ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", "maintainer:me;version:2;"),
            ("{{range .Config.Entrypoint}}x{{else}}none{{end}}", "none"),
            ("{{if .Config.Entrypoint}}ep{{else}}no ep{{end}}", "no ep"),
            ("{{if .Config.Cmd}}cmd{{end}}", "cmd"),
            ("{{if eq .Size 1234}}big{{else if eq .Size 1}}one{{else}}other{{end}}", "big"),
            ("{{if and .Config.Cmd (not .Config.User)}}root{{end}}", "root"),
            ("{{with .Config}}{{.Cmd}}{{end}}", "[sh]"),
            ("{{len .RepoTags}} {{len .Config.Labels}}", "2 2"),
            ("{{join .Config.Cmd \",\"}}", "sh"),
            ("{{upper .Id}}", "SHA256:ABC"),
            ("{{$id := .Id}}{{range .RepoTags}}{{$id}} {{end}}", "sha256:abc sha256:abc "),
            ("{{$.Id}}", "sha256:abc"),
            ("a\n{{- .Size -}}\nb", "a1234b"),
            ("{{/* a comment */}}x", "x"),
            ("{{\"}}\"}}", "}}"),
        ]
        for (source, expected) in cases {
            XCTAssertEqual(try GoTemplate(source).render(document), expected, source)
        }
    }

    func testWholeValuesPrintAsGoPrintsThem() throws {
        let data: TemplateValue = .strings(["a", "b"])
        XCTAssertEqual(try GoTemplate("{{.}}").render(data), "[a b]")
        XCTAssertEqual(try GoTemplate("{{json .}}").render(.string("<&>\n\u{2028}")), #""<&>\n\u2028""#, "no HTML escaping, as docker's json")
        XCTAssertEqual(try GoTemplate("{{.}}").render(.double(1.5)), "1.5")
    }

    func testErrorsAreGoWordedAndOneLine() throws {
        let cases: [(String, String)] = [
            ("{{.Foo}}", #"template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo""#),
            ("x {{.Config.Nope}}", #"template: :1:4: executing "" at <.Config.Nope>: map has no entry for key "Nope""#),
            ("{{.Id.Foo}}", #"template: :1:2: executing "" at <.Id.Foo>: can't evaluate field Foo in type string"#),
            ("{{.Config.Healthcheck.Test}}", #"template: :1:2: executing "" at <.Config.Healthcheck.Test>: nil pointer evaluating interface {}.Test"#),
            ("{{index .RepoTags 5}}", #"template: :1:2: executing "" at <index .RepoTags 5>: error calling index: index out of range: 5"#),
            ("{{nosuch .Id}}", #"template: :1: function "nosuch" not defined"#),
            ("{{.Id", "template: :1: unclosed action"),
            ("{{if .Id}}x", "template: :1: unexpected EOF"),
            ("{{end}}", "template: :1: unexpected {{end}}"),
            ("{{$x}}", #"template: :1: undefined variable "$x""#),
            ("line1\n{{.Foo}}", #"template: :2:2: executing "" at <.Foo>: map has no entry for key "Foo""#),
        ]
        for (source, message) in cases {
            XCTAssertThrowsError(try GoTemplate(source).render(document), source) { error in
                XCTAssertEqual("\(error)", message, source)
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testIndentedJSONIsDockersInspectLayout() {
        let value: TemplateValue = .list([.object([
            TemplateField("Id", .string("x")),
            TemplateField("RepoTags", .strings([])),
            TemplateField("Labels", .stringMap(nil)),
            TemplateField("Empty", .string(""), omitEmpty: true),
        ])])
        XCTAssertEqual(GoJSON.indented(value), """
        [
            {
                "Id": "x",
                "RepoTags": [],
                "Labels": null
            }
        ]
        """)
        XCTAssertEqual(GoJSON.indented(.list([])), "[]")
    }

    func testDecodedJSONKeepsIntegersAndNesting() throws {
        let value = try TemplateValue.decodeJSON(Data(#"{"a":[1,2.5,true,null],"b":{"c":"d"}}"#.utf8))
        XCTAssertEqual(try GoTemplate("{{.a}} {{.b.c}} {{json .}}").render(value), #"[1 2.5 true <nil>] d {"a":[1,2.5,true,null],"b":{"c":"d"}}"#)
    }
}
