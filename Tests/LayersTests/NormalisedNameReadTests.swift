import Foundation
@testable import Layers
import PathEncoding
import XCTest

/// Names are read from a layer as the bytes its pax records hold: libarchive normalises names
/// it converts from UTF-8 to NFC, so `e` + U+0301 must never go through that conversion (it
/// would become `é`, U+00E9, another file). Whatever the process locale.
final class NormalisedNameReadTests: XCTestCase {
    func testPaxNamesAndLinksKeepTheirNormalisation() throws {
        let scratch = Scratch()
        // Python's tarfile writes pax `path`/`linkpath` records in UTF-8, as Go and BuildKit do.
        let made = try shell("""
            cd "$0" && python3 -c "
            import io, tarfile
            with tarfile.open('layer.tar.gz', 'w:gz', format=tarfile.PAX_FORMAT) as t:
                d = tarfile.TarInfo('e\\\\u0301'); d.type = tarfile.DIRTYPE; d.mode = 0o750; d.uid = 5; t.addfile(d)
                f = tarfile.TarInfo('\\\\u00e9'); f.size = 1; t.addfile(f, io.BytesIO(b'x'))
                l = tarfile.TarInfo('link'); l.type = tarfile.SYMTYPE; l.linkname = 'e\\\\u0301/x'; t.addfile(l)
                h = tarfile.TarInfo('hard'); h.type = tarfile.LNKTYPE; h.linkname = '\\\\u00e9'; t.addfile(h)
            "
            """, scratch.path)
        XCTAssertEqual(made.status, 0, made.stderrText)
        for locale in ["C", "C.UTF-8"] {
            setenv("LC_ALL", locale, 1)
            setlocale(LC_ALL, "")
            defer { setlocale(LC_ALL, "C") }
            let headers = try LayerHeaders.read(blobPath: scratch.file("layer.tar.gz"))
            let got = headers.map { [$0.path, $0.linkTarget ?? ""].map { Array(PathBytes.bytes($0)) } }
            XCTAssertEqual(got, [
                [[0x65, 0xCC, 0x81], []],
                [[0xC3, 0xA9], []],
                [Array("link".utf8), [0x65, 0xCC, 0x81] + Array("/x".utf8)],
                [Array("hard".utf8), [0xC3, 0xA9]],
            ], locale)
            XCTAssertEqual(headers.first?.uid, 5)
            XCTAssertEqual(headers.first?.mode, 0o750)
        }
        unsetenv("LC_ALL")
    }
}
