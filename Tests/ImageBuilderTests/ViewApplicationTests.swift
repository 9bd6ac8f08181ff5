import ImageModel
import Layers
import PathEncoding
import XCTest
@testable import ImageBuilder

/// `ViewApplication`: the view a step's items are applied to on another core is the view
/// `reuse`/`addLayer` would have made, and it starts only when a hit would apply the items.
final class ViewApplicationTests: XCTestCase {
    private func state(layers: Int, unread: Int = 0) -> StageState {
        var state = StageState(name: "s", config: ImageConfiguration(platform: Platform.host))
        let digest = SHA256Stream.digest(of: Array("layer".utf8))
        for _ in 0..<layers {
            state.layers.append(.stored(descriptor: Descriptor(mediaType: "m", digest: digest, size: 1), diffID: digest, path: "/x"))
        }
        state.unreadBaseLayers = Array(repeating: (digest, digest), count: unread)
        state.view.apply([LayerHeaders.Header(path: "opt", kind: .directory, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 0),
                          LayerHeaders.Header(path: "opt/old", kind: .file, mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 0)], layer: 0)
        return state
    }

    private func entry(_ path: String, _ kind: LayerEntry.Kind, mode: UInt32 = 0o644) -> LayerItem {
        .entry(LayerEntry(path: path, kind: kind, mode: mode, uid: 1, gid: 2, mtimeSeconds: 3))
    }

    private func snapshot(_ view: FilesystemView) -> [String: String] {
        Dictionary(uniqueKeysWithValues: view.entries.map { key, entry in
            (key.path, "\(entry.kind) \(entry.header.mode) \(entry.header.uid):\(entry.header.gid) \(entry.header.linkTarget ?? "-") @\(entry.layer)")
        })
    }

    func testTheViewAppliedOnAnotherCoreIsTheOneAppliedInPlace() async throws {
        var items: [LayerItem] = [entry("opt", .directory, mode: 0o700), entry("opt/old", .symlink(target: "new"))]
        for n in 0..<5000 { items.append(entry("opt/d\(n % 50)/f\(n)", .regularFile(.bytes([1])))) }
        var state = state(layers: 2)
        var expected = state.view
        expected.apply(items, layer: state.layers.count)

        let applying = try XCTUnwrap(ViewApplication.start(items, on: &state))
        XCTAssertTrue(state.view.entries.isEmpty, "the view is taken out of the state while it is applied")
        state.view = await applying.view()
        XCTAssertEqual(snapshot(state.view), snapshot(expected))
        XCTAssertEqual(state.view.entries.count, 5002)  // opt, opt/old and the files
    }

    func testNothingStartsWhereAHitWouldNotApplyThePlannedItems() {
        let items = [entry("a", .regularFile(.bytes([1])))]
        let archive = LayerItem.archive(archivePath: "/x.tar", destination: "a", owner: nil)
        let cases: [(name: String, state: StageState, items: [LayerItem])] = [
            ("no layer below (scratch)", state(layers: 0), items),
            ("base layers not read yet", state(layers: 2, unread: 1), items),
            ("no items", state(layers: 2), []),
            ("an archive to extract", state(layers: 2), items + [archive]),
        ]
        for c in cases {
            var state = c.state
            let before = snapshot(state.view)
            XCTAssertNil(ViewApplication.start(c.items, on: &state), c.name)
            XCTAssertEqual(snapshot(state.view), before, c.name)
        }
        var ready = state(layers: 1)
        XCTAssertNotNil(ViewApplication.start(items, on: &ready))
    }
}
