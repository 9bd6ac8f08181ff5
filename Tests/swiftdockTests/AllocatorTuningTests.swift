import CLinux
import XCTest

/// `swiftdock_tune_allocator`, which `main` calls first: glibc takes every value it sets
/// (mallopt refuses an mmap threshold above its 32 MiB maximum, for one), and allocation
/// works as before afterwards, large blocks included.
final class AllocatorTuningTests: XCTestCase {
    func testEveryValueIsTakenAndAllocationStillWorks() {
        XCTAssertEqual(swiftdock_tune_allocator(), 1)
        for size in [16, 200 << 10, 4 << 20, 40 << 20] {
            var bytes = [UInt8](repeating: 7, count: size)
            bytes[size - 1] = 9
            XCTAssertEqual(bytes.reduce(0) { $0 &+ Int($1) }, 7 * (size - 1) + 9, "\(size) bytes")
        }
    }
}
