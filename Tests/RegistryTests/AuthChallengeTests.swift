import XCTest
@testable import Registry

final class AuthChallengeTests: XCTestCase {
    func testParsesChallengesTable() {
        let cases: [(String, [AuthChallenge])] = [
            (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
             [AuthChallenge(scheme: "Bearer", parameters: ["realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                                           "scope": "repository:library/alpine:pull"])]),
            (#"Basic realm="Registry Realm""#, [AuthChallenge(scheme: "basic", parameters: ["realm": "Registry Realm"])]),
            // Artifact Registry: no service.
            (#"Bearer realm="https://europe-west3-docker.pkg.dev/v2/token""#,
             [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://europe-west3-docker.pkg.dev/v2/token"])]),
            // Commas inside quotes, several actions, and an error parameter.
            (#"Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:a/b:pull,push",error="insufficient_scope""#,
             [AuthChallenge(scheme: "bearer", parameters: ["realm": "http://127.0.0.1:1/token", "service": "svc",
                                                           "scope": "repository:a/b:pull,push", "error": "insufficient_scope"])]),
            // Escapes, spaces around '=' and ',', unquoted values, mixed-case names.
            (#"bearer  Realm = "a\"b\\c" ,  Service=plain , scope="x y""#,
             [AuthChallenge(scheme: "bearer", parameters: ["realm": #"a"b\c"#, "service": "plain", "scope": "x y"])]),
            // Two challenges in one header.
            (#"Basic realm="r1", Bearer realm="https://t/token",service="s""#,
             [AuthChallenge(scheme: "basic", parameters: ["realm": "r1"]),
              AuthChallenge(scheme: "bearer", parameters: ["realm": "https://t/token", "service": "s"])]),
            // A scheme without parameters, and token68.
            ("Negotiate", [AuthChallenge(scheme: "negotiate")]),
            ("Basic dXNlcjpwYXNz==", [AuthChallenge(scheme: "basic", parameters: ["": "dXNlcjpwYXNz"])]),
            ("", []),
            // Unterminated quote runs to the end.
            (#"Bearer realm="https://x/token"#, [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://x/token"])]),
        ]
        for (header, expected) in cases {
            XCTAssertEqual(AuthChallenge.parse(header), expected, header)
        }
    }

    func testPreferredPicksBearerThenBasic() {
        XCTAssertEqual(AuthChallenge.preferred(#"Basic realm="r", Bearer realm="t""#)?.scheme, "bearer")
        XCTAssertEqual(AuthChallenge.preferred(#"Negotiate, Basic realm="r""#)?.scheme, "basic")
        XCTAssertNil(AuthChallenge.preferred(""))
    }

    func testAccessors() {
        let c = AuthChallenge.preferred(#"Bearer realm="R",service="S",scope="P""#)!
        XCTAssertEqual([c.realm, c.service, c.scope], ["R", "S", "P"])
        XCTAssertTrue(c.isBearer)
        XCTAssertFalse(c.isBasic)
    }
}
