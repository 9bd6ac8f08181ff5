import CSandbox
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How RUN steps get a root file system they can change.
public enum SandboxIsolation: String, Sendable {
    /// An overlay over the layers; its upper dir is the diff.
    case overlay
    /// A copy of the layers, compared with them afterwards.
    case copy
}

public struct SandboxSupport: Sendable, Equatable {
    public var available: Bool
    /// One line: what is missing and the way out.
    public var reason: String?
    /// How RUN steps get their root when available.
    public var isolation: SandboxIsolation
    /// One line when `auto` fell back to copying: why overlay was not used.
    public var fallback: String?
    public init(available: Bool, reason: String?, isolation: SandboxIsolation = .overlay, fallback: String? = nil) {
        self.available = available
        self.reason = reason
        self.isolation = isolation
        self.fallback = fallback
    }
}

extension Sandbox {
    /// Probes once whether user namespaces work here and how RUN gets its root: overlayfs inside
    /// the user namespace, or a copy where that is refused (see `isolationVariable`).
    public static func support() -> SandboxSupport { probed }

    /// `auto` (default: overlay where the kernel allows it in a user namespace, else copy),
    /// `overlay` or `copy`.
    public static let isolationVariable = "SWIFTDOCK_RUN_ISOLATION"

    /// Asked once per process, and answered from the per-boot cache when it can be
    /// (`SandboxProbeCache`): a build on a fresh store then spawns no probe.
    private static let probed: SandboxSupport = {
        let requested = ProcessInfo.processInfo.environment[isolationVariable] ?? ""
        let key = SandboxProbeKey.current(requested: requested, probeBase: probeBase, idMap: .current)
        return SandboxProbeCache.standard().support(key: key) { uncachedSupport(requested: requested) }
    }()

    /// What the probe says now, without the cache.
    static func uncachedSupport(requested: String) -> SandboxSupport {
        choose(requested: requested, probe: { probeOnce($0, way: "build with --run=record to record RUN steps without executing them") })
    }

    /// Where the probe makes its directories: `$TMPDIR`, else /tmp.
    static var probeBase: String {
        (ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 }) ?? "/tmp"
    }

    /// The isolation for a `SWIFTDOCK_RUN_ISOLATION` value, given how each one probes: `auto`
    /// takes overlay, falling back to copying only when overlay itself was refused (not when
    /// user namespaces are missing altogether, which copying cannot fix).
    static func choose(requested: String, probe: (SandboxIsolation) -> SandboxSupport) -> SandboxSupport {
        switch requested.lowercased() {
        case "overlay":
            return probe(.overlay)
        case "copy":
            return probe(.copy)
        case "", "auto":
            let overlay = probe(.overlay)
            guard !overlay.available, overlay.reason?.hasPrefix("overlayfs") == true else { return overlay }
            var copy = probe(.copy)
            if copy.available { copy.fallback = overlay.reason.map { String($0.prefix { $0 != ";" }) } }
            return copy
        default:
            return SandboxSupport(available: false, reason: "\(isolationVariable)=\(requested) is not one of auto, overlay, copy")
        }
    }

    /// Runs the helper up to the point where the root is mounted.
    private static func probeOnce(_ isolation: SandboxIsolation, way: String) -> SandboxSupport {
        let base = probeBase
        var template = Array("\(base)/swiftdock-sandbox-probe.XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            return SandboxSupport(available: false, reason: "cannot create a probe directory in \(base): \(String(cString: strerror(errno))); \(way)")
        }
        defer {
            // overlay leaves its work directory mode 000, and with `volatile` incompat/ and
            // incompat/volatile/ in it too: an unprivileged removal must be able to list them
            // (it left the probe's directory behind in TMPDIR).
            for sub in ["work/work", "work/work/incompat", "work/work/incompat/volatile"] { chmod("\(dir)/\(sub)", 0o700) }
            try? FileManager.default.removeItem(atPath: dir)
        }
        for sub in ["lower", "upper", "work"] { mkdir("\(dir)/\(sub)", 0o755) }
        let root: SandboxRoot = isolation == .overlay
            ? .overlay(lowerDirs: ["\(dir)/lower"], upperDir: "\(dir)/upper", workDir: "\(dir)/work")
            : .directory("\(dir)/lower", owners: [])
        let spec = SandboxSpec(root: root, argv: ["/bin/true"])
        do {
            let status = try runBlocking(spec, probe: true, process: SandboxProcess())
            if status == 0 { return SandboxSupport(available: true, reason: nil, isolation: isolation) }
            return SandboxSupport(available: false, reason: "the sandbox probe exited with status \(status); \(way)")
        } catch let error as SandboxError {
            let m = error.message
            if m.contains("unshare") || m.contains("ID mapping") {
                return SandboxSupport(available: false, reason: "user namespaces are not available here (\(m)); \(way)")
            }
            if m.contains("overlay") {
                return SandboxSupport(available: false, reason: "overlayfs in a user namespace is not available here (\(m)); \(way), or with \(isolationVariable)=copy to copy the root file system for each RUN instead")
            }
            return SandboxSupport(available: false, reason: "\(m); \(way)")
        } catch {
            return SandboxSupport(available: false, reason: "\(error); \(way)")
        }
    }
}
