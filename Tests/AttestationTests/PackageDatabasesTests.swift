@testable import Attestation
import XCTest

/// The package database parsers, table-driven, malformed input included: a bad entry is a
/// skipped package, never a crash or a wrong package.
final class PackageDatabasesTests: XCTestCase {
    func testDpkgStatus() {
        let cases: [(name: String, input: String, expected: [String])] = [
            ("one installed", """
             Package: libc6
             Status: install ok installed
             Architecture: amd64
             Version: 2.36-9+deb12u4
             Description: GNU C Library
              continuation line
             """, ["pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64"]),
            ("not installed and config-files skipped", """
             Package: gone
             Status: deinstall ok config-files
             Architecture: amd64
             Version: 1.0

             Package: half
             Status: install ok half-installed
             Architecture: amd64
             Version: 1.0

             Package: bash
             Status: install ok installed
             Architecture: amd64
             Version: 5.2.15-2+b2
             """, ["pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64"]),
            ("epoch and all", "Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 1:2024a-0+deb12u1\n",
             ["pkg:deb/debian/tzdata@1:2024a-0%2Bdeb12u1?arch=all"]),
            ("missing version", "Package: x\nStatus: install ok installed\nArchitecture: amd64\n", []),
            ("hostile name", "Package: ../../etc\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n", []),
            ("upper-case name", "Package: Foo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n", []),
            ("version with space", "Package: foo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1 2\n", []),
            ("garbage line spoils only its stanza", """
             Package: bad
             this line has no colon
             Status: install ok installed
             Architecture: amd64
             Version: 1

             Package: good
             Status: install ok installed
             Architecture: arm64
             Version: 2
             """, ["pkg:deb/debian/good@2?arch=arm64"]),
            ("CRLF and trailing blanks", "Package: crlf\r\nStatus: install ok installed\r\nArchitecture: amd64\r\nVersion: 3\r\n\r\n\r\n",
             ["pkg:deb/debian/crlf@3?arch=amd64"]),
            ("empty", "", []),
            ("only blank lines", "\n\n \n\t\n", []),
            ("continuation before any field", " leading\nPackage: x\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n", []),
        ]
        for c in cases {
            let found = PackageDatabases.packages(in: Array(c.input.utf8), kind: .dpkgStatus, path: "/var/lib/dpkg/status")
            XCTAssertEqual(found.map(\.purl), c.expected, c.name)
        }
        // Bytes that are not UTF-8 are repaired, not fatal.
        let binary: [UInt8] = Array("Package: ok\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\nDescription: ".utf8) + [0xff, 0xfe, 0, 0x80]
        XCTAssertEqual(PackageDatabases.packages(in: binary, kind: .dpkgStatus, path: "s").map(\.name), ["ok"])
    }

    func testApkInstalled() {
        let cases: [(name: String, input: String, expected: [String])] = [
            ("two packages", "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\n\nP:busybox\nV:1.36.1-r5\nA:aarch64\n",
             ["pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64", "pkg:apk/alpine/busybox@1.36.1-r5?arch=aarch64"]),
            ("no version", "P:musl\nA:x86_64\n", []),
            ("slash in name", "P:a/b\nV:1\nA:x86_64\n", []),
            ("no architecture", "P:musl\nV:1\n", ["pkg:apk/alpine/musl@1"]),
            ("junk", "\u{0}\u{1}\n:::\n", []),
        ]
        for c in cases {
            let found = PackageDatabases.packages(in: Array(c.input.utf8), kind: .apkInstalled, path: "/lib/apk/db/installed")
            XCTAssertEqual(found.map(\.purl), c.expected, c.name)
        }
    }

    func testPythonMetadata() {
        let cases: [(name: String, input: String, expected: [String])] = [
            ("dist-info", "Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\nSummary: HTTP\n\nBody\nName: Other\n",
             ["pkg:pypi/requests@2.31.0"]),
            ("PEP 503 normalised", "Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.9.0\n", ["pkg:pypi/typing-extensions@4.9.0"]),
            ("runs collapse", "Name: zope..interface__x\nVersion: 6.0\n", ["pkg:pypi/zope-interface-x@6.0"]),
            ("local version encoded", "Name: torch\nVersion: 2.2.0+cpu\n", ["pkg:pypi/torch@2.2.0%2Bcpu"]),
            ("no version", "Name: torch\n", []),
            ("name in body only", "Metadata-Version: 2.1\n\nName: x\nVersion: 1\n", []),
            ("bad name", "Name: -bad\nVersion: 1\n", []),
            ("space in version", "Name: ok\nVersion: 1 0\n", []),
            ("empty", "", []),
        ]
        for c in cases {
            let found = PackageDatabases.packages(in: Array(c.input.utf8), kind: .pythonMetadata, path: "m")
            XCTAssertEqual(found.map(\.purl), c.expected, c.name)
        }
    }

    func testWhichPathsAreDatabases() {
        let cases: [(String, PackageDatabases.Kind?)] = [
            ("var/lib/dpkg/status", .dpkgStatus),
            ("var/lib/dpkg/status-old", nil),
            ("lib/apk/db/installed", .apkInstalled),
            ("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", .pythonMetadata),
            ("usr/local/lib/python3.11/site-packages/pip-24.0.dist-info/METADATA", .pythonMetadata),
            ("opt/venv/lib/python3.12/site-packages/foo-1.0-py3.12.egg-info/PKG-INFO", .pythonMetadata),
            ("usr/lib/python3/dist-packages/foo-1.0.egg-info", .pythonMetadata),
            ("usr/lib/python3/dist-packages/pip-24.0.dist-info/RECORD", nil),
            ("home/user/project/pip-24.0.dist-info/METADATA", nil),
            ("site-packages", nil),
        ]
        for (path, kind) in cases { XCTAssertEqual(PackageDatabases.kind(of: path), kind, path) }
    }

    func testPurlEncoding() {
        XCTAssertEqual(SoftwarePackage(ecosystem: .deb, name: "g++", version: "4:12.2.0-3", architecture: "amd64", source: "s").purl,
                       "pkg:deb/debian/g%2B%2B@4:12.2.0-3?arch=amd64")
        XCTAssertEqual(PackageURL.encode("a b/c?d#é"), "a%20b%2Fc%3Fd%23%C3%A9")
    }
}
