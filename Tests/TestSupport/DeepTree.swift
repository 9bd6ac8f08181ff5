import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes a chain of directories below the existing `directory` whose full path is longer than
/// PATH_MAX (made with `mkdirat`/`openat`, which never see the whole path), ending in `leaf`:
/// a walk that `lstat`s full paths fails there with ENAMETOOLONG — an error root meets too,
/// unlike a mode-000 file. Returns the first component's name.
@discardableResult
public func makeTreeDeeperThanPathMax(below directory: String) throws -> String {
    let component = String(repeating: "d", count: 200)
    var fd = open(directory, O_RDONLY | O_DIRECTORY)
    for _ in 0..<(Int(PATH_MAX) / 201 + 2) {
        guard fd >= 0, mkdirat(fd, component, 0o755) == 0 else {
            if fd >= 0 { close(fd) }
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory])
        }
        let next = openat(fd, component, O_RDONLY | O_DIRECTORY)
        close(fd)
        fd = next
    }
    guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory]) }
    defer { close(fd) }
    guard mkdirat(fd, "leaf", 0o755) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory]) }
    return component
}
