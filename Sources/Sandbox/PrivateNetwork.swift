import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whether RUN can have a network namespace of its own with outbound access: slirp4netns (a
/// user-mode TCP/IP stack, Debian package `slirp4netns`) on PATH, and /dev/net/tun usable by
/// this user (its tap device is made inside the sandbox's namespace). pasta (passt) would do
/// as well; slirp4netns is used for its ready/exit descriptors, which tie its life to the step.
public struct PrivateNetworkSupport: Sendable, Equatable {
    /// The slirp4netns executable; nil when a private network cannot be had.
    public var helper: String?
    /// One line: why not, and the way out.
    public var reason: String?
}

extension Sandbox {
    /// Probed once per process.
    public static func privateNetwork() -> PrivateNetworkSupport { probedNetwork }

    private static let probedNetwork: PrivateNetworkSupport = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
            + ["/usr/bin", "/usr/local/bin"]
        guard let helper = path.map({ "\($0)/slirp4netns" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return PrivateNetworkSupport(helper: nil, reason: "slirp4netns is not installed (apt-get install slirp4netns)")
        }
        guard access("/dev/net/tun", R_OK | W_OK) == 0 else {
            return PrivateNetworkSupport(
                helper: nil,
                reason: "/dev/net/tun is not usable by uid \(getuid()) (\(String(cString: strerror(errno)))), so slirp4netns cannot make RUN's network")
        }
        return PrivateNetworkSupport(helper: helper, reason: nil)
    }()
}
