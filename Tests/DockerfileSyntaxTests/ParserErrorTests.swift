import XCTest
@testable import DockerfileSyntax

final class ParserErrorTests: XCTestCase {
    func testErrors() {
        let cases: [(String, String)] = [
            // directives and file structure
            ("# escape=`\n# ESCAPE=\\\nFROM x", "Dockerfile:2: only one escape parser directive can be used"),
            ("# syntax=a\n# syntax=b\nFROM x", "Dockerfile:2: only one syntax parser directive can be used"),
            ("# escape=x\nFROM x", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
            ("", "Dockerfile:1: file with no instructions"),
            ("# only a comment\n\n", "Dockerfile:2: file with no instructions"),
            ("ARG a\n", "Dockerfile:1: dockerfile contains no stages to build"),
            ("RUN echo\nFROM x", "Dockerfile:1: RUN: no build stage in current context"),
            ("FROM x\nFOO bar", "Dockerfile:2: unknown instruction: FOO"),
            ("FROM x\nrunn bar", "Dockerfile:2: unknown instruction: runn"),
            // FROM
            ("FROM", "Dockerfile:1: FROM: FROM requires either one or three arguments"),
            ("FROM a b", "Dockerfile:1: FROM: FROM requires either one or three arguments"),
            ("FROM a to b", "Dockerfile:1: FROM: FROM requires either one or three arguments"),
            ("FROM a AS 1st", "Dockerfile:1: FROM: invalid name for build stage: \"1st\", name can't start with a number or contain symbols"),
            ("FROM a AS b$c", "Dockerfile:1: FROM: invalid name for build stage: \"b$c\", name can't start with a number or contain symbols"),
            ("FROM --plat=x a", "Dockerfile:1: FROM: unknown flag: plat"),
            // flags
            ("FROM x\nRUN --foo=bar true", "Dockerfile:2: RUN: unknown flag: foo"),
            ("FROM x\nRUN --network=none --network=host true", "Dockerfile:2: RUN: duplicate flag specified: network"),
            ("FROM x\nRUN --network true", "Dockerfile:2: RUN: missing a value on flag: network"),
            ("FROM x\nRUN --mount true", "Dockerfile:2: RUN: missing a value on flag: mount"),
            ("FROM x\nRUN --network=bridge true", "Dockerfile:2: RUN: unsupported network mode \"bridge\""),
            ("FROM x\nRUN --security=x true", "Dockerfile:2: RUN: unsupported security mode \"x\""),
            ("FROM x\nRUN [\"a\", 1]", "Dockerfile:2: RUN: when using JSON array syntax, arrays must be comprised of strings only"),
            ("FROM x\nCMD --x=1 a", "Dockerfile:2: CMD: unknown flag: x"),
            ("FROM x\nCOPY --link= a b", "Dockerfile:2: COPY: missing a value on flag: link"),
            ("FROM x\nCOPY --link=yes a b", "Dockerfile:2: COPY: expecting boolean value for flag link, not: yes"),
            ("FROM x\nCOPY --checksum=sha256:x a b", "Dockerfile:2: COPY: unknown flag: checksum"),
            ("FROM x\nADD --from=a a b", "Dockerfile:2: ADD: unknown flag: from"),
            ("FROM x\nCOPY --from a b", "Dockerfile:2: COPY: missing a value on flag: from"),
            // COPY / ADD
            ("FROM x\nCOPY a", "Dockerfile:2: COPY: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
            ("FROM x\nADD", "Dockerfile:2: ADD: ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
            ("FROM x\nCOPY [\"a\", 2]", "Dockerfile:2: COPY: when using JSON array syntax, arrays must be comprised of strings only"),
            ("FROM x\nCOPY a <<EOF\nx\nEOF", "Dockerfile:2: COPY: COPY cannot accept a heredoc as a destination"),
            ("FROM x\nRUN <<EOF\necho", "Dockerfile:2: RUN: unterminated heredoc"),
            ("FROM x\nCOPY <<A <<B /d\na\nA\nb\n", "Dockerfile:2: COPY: unterminated heredoc"),
            // SHELL
            ("FROM x\nSHELL /bin/sh -c", "Dockerfile:2: SHELL: SHELL requires the arguments to be in JSON form"),
            ("FROM x\nSHELL []", "Dockerfile:2: SHELL: SHELL requires at least one argument"),
            ("FROM x\nSHELL", "Dockerfile:2: SHELL: SHELL requires at least one argument"),
            // ENV / LABEL / ARG
            ("FROM x\nENV", "Dockerfile:2: ENV: ENV requires at least one argument"),
            ("FROM x\nENV onlykey", "Dockerfile:2: ENV: ENV must have two arguments"),
            ("FROM x\nENV a=1 b", "Dockerfile:2: ENV: Syntax error - can't find = in \"b\". Must be of the form: name=value"),
            ("FROM x\nENV =1", "Dockerfile:2: ENV: ENV names can not be blank"),
            ("FROM x\nLABEL", "Dockerfile:2: LABEL: LABEL requires at least one argument"),
            ("FROM x\nLABEL a=1 =2", "Dockerfile:2: LABEL: LABEL names can not be blank"),
            ("FROM x\nLABEL --x=1 a=1", "Dockerfile:2: LABEL: unknown flag: x"),
            ("FROM x\nARG", "Dockerfile:2: ARG: ARG requires at least one argument"),
            ("FROM x\nARG =v", "Dockerfile:2: ARG: ARG names can not be blank"),
            // single-argument instructions
            ("FROM x\nEXPOSE", "Dockerfile:2: EXPOSE: EXPOSE requires at least one argument"),
            ("FROM x\nVOLUME", "Dockerfile:2: VOLUME: VOLUME requires at least one argument"),
            ("FROM x\nVOLUME []", "Dockerfile:2: VOLUME: VOLUME requires at least one argument"),
            ("FROM x\nVOLUME [\"/a\", \" \"]", "Dockerfile:2: VOLUME: VOLUME specified can not be an empty string"),
            ("FROM x\nVOLUME [1]", "Dockerfile:2: VOLUME: when using JSON array syntax, arrays must be comprised of strings only"),
            ("FROM x\nUSER", "Dockerfile:2: USER: USER requires exactly one argument"),
            ("FROM x\nWORKDIR", "Dockerfile:2: WORKDIR: WORKDIR requires exactly one argument"),
            ("FROM x\nSTOPSIGNAL", "Dockerfile:2: STOPSIGNAL: STOPSIGNAL requires exactly one argument"),
            ("FROM x\nMAINTAINER", "Dockerfile:2: MAINTAINER: MAINTAINER requires exactly one argument"),
            // HEALTHCHECK
            ("FROM x\nHEALTHCHECK", "Dockerfile:2: HEALTHCHECK: HEALTHCHECK requires at least one argument"),
            ("FROM x\nHEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK: HEALTHCHECK NONE takes no arguments"),
            ("FROM x\nHEALTHCHECK --interval=1s NONE", "Dockerfile:2: HEALTHCHECK: HEALTHCHECK NONE takes no arguments"),
            ("FROM x\nHEALTHCHECK CMND x", "Dockerfile:2: HEALTHCHECK: Unknown type \"CMND\" in HEALTHCHECK (try CMD)"),
            ("FROM x\nHEALTHCHECK CMD", "Dockerfile:2: HEALTHCHECK: Missing command after HEALTHCHECK CMD"),
            ("FROM x\nHEALTHCHECK CMD []", "Dockerfile:2: HEALTHCHECK: Missing command after HEALTHCHECK CMD"),
            ("FROM x\nHEALTHCHECK --interval=500us CMD x", "Dockerfile:2: HEALTHCHECK: Interval \"interval\" cannot be less than 1ms"),
            ("FROM x\nHEALTHCHECK --timeout=-1s CMD x", "Dockerfile:2: HEALTHCHECK: Interval \"timeout\" cannot be less than 1ms"),
            ("FROM x\nHEALTHCHECK --start-period=10 CMD x", "Dockerfile:2: HEALTHCHECK: time: missing unit in duration \"10\""),
            ("FROM x\nHEALTHCHECK --start-interval=x CMD x", "Dockerfile:2: HEALTHCHECK: time: invalid duration \"x\""),
            ("FROM x\nHEALTHCHECK --retries=x CMD x", "Dockerfile:2: HEALTHCHECK: strconv.ParseInt: parsing \"x\": invalid syntax"),
            ("FROM x\nHEALTHCHECK --retries=99999999999 CMD x", "Dockerfile:2: HEALTHCHECK: strconv.ParseInt: parsing \"99999999999\": value out of range"),
            ("FROM x\nHEALTHCHECK --retries=-1 CMD x", "Dockerfile:2: HEALTHCHECK: --retries cannot be negative (-1)"),
            ("FROM x\nHEALTHCHECK --foo=1 CMD x", "Dockerfile:2: HEALTHCHECK: unknown flag: foo"),
            // ONBUILD
            ("FROM x\nONBUILD", "Dockerfile:2: ONBUILD: ONBUILD requires at least one argument"),
            ("FROM x\nONBUILD ONBUILD RUN x", "Dockerfile:2: ONBUILD: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
            ("FROM x\nONBUILD from y", "Dockerfile:2: ONBUILD: FROM isn't allowed as an ONBUILD trigger"),
            ("FROM x\nONBUILD MAINTAINER me", "Dockerfile:2: ONBUILD: MAINTAINER isn't allowed as an ONBUILD trigger"),
            ("FROM x\nONBUILD COPY a", "Dockerfile:2: ONBUILD: COPY: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
            ("FROM x\nONBUILD BOGUS a", "Dockerfile:2: ONBUILD: unknown instruction: BOGUS"),
            ("FROM x\nONBUILD --x=1 RUN a", "Dockerfile:2: ONBUILD: unknown flag: x"),
            // locations after continuations
            ("FROM x\nRUN a \\\n  b\nCOPY c", "Dockerfile:4: COPY: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try DockerfileParser.parse(text), text) { error in
                XCTAssertEqual("\(error)", message, text)
                XCTAssertTrue(error is DockerfileError, text)
            }
        }
    }

    func testFileNameInErrors() {
        XCTAssertThrowsError(try DockerfileParser.parse("FROM x\nCOPY a", fileName: "app/Containerfile")) { error in
            XCTAssertEqual("\(error)", "app/Containerfile:2: COPY: COPY requires at least two arguments, but only one was provided. Destination could not be determined")
        }
    }
}
