import Foundation

public enum SandboxNetwork: Sendable {
    /// Share the host's network (`--network=host`).
    case host
    /// A new network namespace with only `lo`, brought up.
    case none
    /// A new network namespace with outbound access through slirp4netns and without the host's
    /// loopback: BuildKit's default (see `Sandbox.privateNetwork()`).
    case `private`
}

public enum SandboxStdio: Sendable {
    /// The command gets this process's stdin, stdout and stderr.
    case inherit
    /// stdin is /dev/null; stdout and stderr are read through pipes and delivered chunk by chunk
    /// (never two calls at once).
    case capture(@Sendable (_ isError: Bool, _ bytes: [UInt8]) -> Void)
}

/// An owner to give a file of a `SandboxRoot.directory` root, inside the user namespace (where
/// an unprivileged user can give files to the image's other users).
public struct SandboxOwner: Sendable, Hashable {
    /// Relative to the root directory, as the bytes the kernel knows it by (a name that is not
    /// UTF-8 keeps its owner); never through a symlink (the last component is changed itself).
    public var pathBytes: [UInt8]
    /// Container ids.
    public var uid: UInt32
    public var gid: UInt32
    /// Permission bits set again afterwards when they hold setuid/setgid (which chown clears).
    public var mode: UInt32
    /// A path given as its raw bytes.
    public init(pathBytes: [UInt8], uid: UInt32, gid: UInt32, mode: UInt32) {
        self.pathBytes = pathBytes
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
    /// A path that is its own UTF-8.
    public init(path: String, uid: UInt32, gid: UInt32, mode: UInt32) {
        self.init(pathBytes: Array(path.utf8), uid: uid, gid: gid, mode: mode)
    }
}

/// What the command sees as `/`.
public enum SandboxRoot: Sendable {
    /// overlayfs: read-only `lowerDirs` (top first, at least one); every change lands in the
    /// existing empty `upperDir`; `workDir` is an existing empty directory on the same file
    /// system as `upperDir`.
    case overlay(lowerDirs: [String], upperDir: String, workDir: String)
    /// The directory itself, changed in place (copy-and-compare isolation, where overlayfs in a
    /// user namespace is refused); `owners` are applied before the command starts. It must
    /// already hold the mount points (`/proc`, `/dev`, …) to keep them out of a later diff.
    case directory(String, owners: [SandboxOwner])
}

public struct SandboxSpec: Sendable {
    public var root: SandboxRoot
    /// `argv[0]` is looked up in the container's PATH (from `environment`) unless it contains a `/`.
    public var argv: [String]
    /// "K=V", exactly what the command gets (`ProcessModel` adds the defaults). Without a
    /// PATH, `argv[0]` is looked up in `ProcessModel.defaultPath`.
    public var environment: [String]
    /// Absolute; created (owned by uid:gid) when missing.
    public var workingDirectory: String
    public var uid: UInt32
    public var gid: UInt32
    public var supplementaryGroups: [UInt32]
    public var network: SandboxNetwork
    /// Applied after the root file system is mounted.
    public var mounts: [SandboxMount]
    public var hostname: String
    public var stdio: SandboxStdio
    /// How ids map into the user namespace: the helper writes these maps, and supplementary
    /// groups outside them are left out (setgroups cannot name an unmapped group).
    public var idMap: UserNamespaceMap

    public init(
        root: SandboxRoot, argv: [String],
        environment: [String] = ["PATH=\(ProcessModel.defaultPath)"], workingDirectory: String = "/",
        uid: UInt32 = 0, gid: UInt32 = 0, supplementaryGroups: [UInt32] = [],
        network: SandboxNetwork = .host, mounts: [SandboxMount] = [], hostname: String = "swiftdock",
        stdio: SandboxStdio = .inherit, idMap: UserNamespaceMap = .current
    ) {
        self.root = root
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
        self.network = network
        self.mounts = mounts
        self.hostname = hostname
        self.stdio = stdio
        self.idMap = idMap
    }

    /// A spec that runs `process` (its argv, environment, working directory and user).
    public init(root: SandboxRoot, process: ProcessModel, network: SandboxNetwork = .host, mounts: [SandboxMount] = [],
                hostname: String = "swiftdock", stdio: SandboxStdio = .inherit, idMap: UserNamespaceMap = .current) {
        self.init(root: root, argv: process.argv, environment: process.environment, workingDirectory: process.workingDirectory,
                  uid: process.user.uid, gid: process.user.gid, supplementaryGroups: process.user.supplementaryGroups,
                  network: network, mounts: mounts, hostname: hostname, stdio: stdio, idMap: idMap)
    }
}
