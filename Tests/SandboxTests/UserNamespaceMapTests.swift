@testable import Sandbox
import XCTest

/// The one reading of /etc/subuid and /etc/subgid, and what of it reaches the sandbox helper.
final class UserNamespaceMapTests: XCTestCase {
    let tools: (String) -> String? = { "/usr/bin/" + $0 }

    func testResolution() {
        let ranges = SubordinateIDs(uids: .init(start: 100000, count: 65536), gids: .init(start: 200000, count: 65536),
                                    newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap")
        let cases: [(euid: UInt32, subuid: String?, subgid: String?, tools: (String) -> String?, expected: UserNamespaceMap, why: String)] = [
            (0, "alice:100000:65536\n", "alice:200000:65536\n", tools, .identity, "root: every id is itself"),
            (1000, "alice:100000:65536\n", "alice:200000:65536\n", tools, .subordinate(uid: 1000, gid: 100, ranges), "by name"),
            (1000, "1000:100000:65536\n", "1000:200000:65536\n", tools, .subordinate(uid: 1000, gid: 100, ranges), "by uid"),
            (1000, "bob:1:9\nalice:100000:0\nalice:100000:65536\nalice:5:5\n", "alice:200000:65536\n", tools,
             .subordinate(uid: 1000, gid: 100, ranges), "the first non-empty range of the user"),
            // newgidmap reads /etc/subgid by user, not by group: a line keyed by the gid is not ours.
            (1000, "alice:100000:65536\n", "100:200000:65536\n", tools, .single(uid: 1000, gid: 100), "subgid by gid"),
            (1000, "alice:100000:65536\n", nil, tools, .single(uid: 1000, gid: 100), "no subgid file"),
            (1000, "alice:4294967295:2\n", "alice:200000:65536\n", tools, .single(uid: 1000, gid: 100), "range past 2^32"),
            (1000, "alice:x:65536\n", "alice:200000:65536\n", tools, .single(uid: 1000, gid: 100), "malformed"),
            (1000, "alice:100000:65536\n", "alice:200000:65536\n", { $0 == "newuidmap" ? "/usr/bin/newuidmap" : nil },
             .single(uid: 1000, gid: 100), "no newgidmap"),
        ]
        for c in cases {
            let map = UserNamespaceMap.resolve(effectiveUID: c.euid, uid: 1000, gid: 100, userName: "alice",
                                               subuid: c.subuid, subgid: c.subgid, tool: c.tools)
            XCTAssertEqual(map, c.expected, c.why)
        }
    }

    func testHostToContainerAndGroups() {
        let ids = SubordinateIDs(uids: .init(start: 100000, count: 65536), gids: .init(start: 200000, count: 1000),
                                 newuidmap: "/u", newgidmap: "/g")
        let sub = UserNamespaceMap.subordinate(uid: 1000, gid: 100, ids)
        XCTAssertNil(UserNamespaceMap.identity.hostToContainer)
        XCTAssertEqual(sub.hostToContainer?.uids.map { [$0.host, $0.container, $0.count] }, [[1000, 0, 1], [100000, 1, 65536]])
        XCTAssertEqual(sub.hostToContainer?.gids.map { [$0.host, $0.container, $0.count] }, [[100, 0, 1], [200000, 1, 1000]])
        XCTAssertEqual(UserNamespaceMap.single(uid: 5, gid: 6).hostToContainer?.gids.map { [$0.host, $0.container, $0.count] }, [[6, 0, 1]])
        let cases: [(UserNamespaceMap, UInt32, Bool)] = [
            (.identity, 70000, true), (.single(uid: 5, gid: 6), 0, true), (.single(uid: 5, gid: 6), 1, false),
            (sub, 1000, true), (sub, 1001, false),
        ]
        for (map, gid, expected) in cases { XCTAssertEqual(map.maps(containerGID: gid), expected, "\(map) \(gid)") }
    }

    /// The helper gets the map, the tools and the fallback search path in its spec, and no
    /// supplementary group it could not set.
    func testSpecCarriesTheMap() throws {
        func entries(_ map: UserNamespaceMap) throws -> [String] {
            let spec = SandboxSpec(root: .directory("/r", owners: []), argv: ["true"], environment: ["A=1"],
                                   supplementaryGroups: [0, 5, 70000], idMap: map)
            return try Sandbox.serialize(spec, probe: false).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                .filter { ["I", "i", "j", "k", "G", "S", "E"].contains($0.first.map(String.init) ?? "") }
        }
        let ids = SubordinateIDs(uids: .init(start: 100000, count: 65536), gids: .init(start: 200000, count: 65536),
                                 newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap")
        let path = "S" + ProcessModel.defaultPath
        XCTAssertEqual(try entries(.identity), ["EA=1", path, "G0", "G5", "G70000", "Iidentity"])
        XCTAssertEqual(try entries(.single(uid: 1000, gid: 100)), ["EA=1", path, "G0", "Isingle"])
        XCTAssertEqual(try entries(.subordinate(uid: 1000, gid: 100, ids)),
                       ["EA=1", path, "G0", "G5", "Isubordinate", "i100000:65536:200000:65536", "j/usr/bin/newuidmap", "k/usr/bin/newgidmap"])
    }
}
