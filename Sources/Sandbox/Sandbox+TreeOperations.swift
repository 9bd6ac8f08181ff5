import Foundation

/// Changes to a directory tree made as root of a user namespace mapped as RUN's is, by the
/// sandbox helper (Sources/CSandbox/ops.c), for an unprivileged builder with subordinate ids.
///
/// Why: a RUN's lower directories (the store's unpacked base, a COPY layer written for the
/// next RUN) are made by the real user, so on disk every file is its own — container root.
/// Rootless podman and buildah keep their storage owned by the subordinate ids the image's
/// owners map to (`buildah unshare`); these operations do the same, so inside a RUN `stat`
/// shows the image's owners and `USER app` can write where the image lets it. Trees owned
/// that way can no longer be removed by the real user alone: `removeTree` does it inside.
extension Sandbox {
    /// Gives each of `owners` (paths relative to `root`, never followed through a symlink) its
    /// container owner and mode, inside a user namespace mapped as `idMap`. Pass only the
    /// paths whose owner is not container root: that is the whole cost (one helper process,
    /// one `lchown` per path). An id `idMap` does not map is left as it is.
    public static func applyOwners(_ owners: [SandboxOwner], under root: String, idMap: UserNamespaceMap = .current) throws {
        guard !owners.isEmpty else { return }
        try operate("owners", on: root, owners: owners, idMap: idMap)
    }

    /// Removes `path` (a tree, a file, or nothing) inside a user namespace mapped as `idMap`:
    /// files owned by the subordinate ids, in directories without write permission for the
    /// real user, included.
    public static func removeTree(_ path: String, idMap: UserNamespaceMap = .current) throws {
        try operate("remove", on: path, owners: [], idMap: idMap)
    }

    private static func operate(_ operation: String, on path: String, owners: [SandboxOwner], idMap: UserNamespaceMap) throws {
        let output = CapturedOutput()
        let spec = SandboxSpec(root: .directory(path, owners: owners), argv: [], network: .host,
                               stdio: .capture { _, bytes in output.append(bytes) }, idMap: idMap)
        let status = try runBlocking(spec, probe: false, operation: operation, process: SandboxProcess())
        guard status == 0 else {
            let said = output.firstLine.map { ": \($0)" } ?? ""
            throw SandboxError("sandbox: \(operation) \(path) in the user namespace exited with status \(status)\(said)", status: status)
        }
    }
}

/// What an operation printed (rm's message). `@unchecked Sendable` is safe: `runBlocking`
/// delivers output under its own lock, one chunk at a time, and reads it only after the
/// readers finished; `lock` guards `bytes` all the same.
private final class CapturedOutput: @unchecked Sendable {
    private var bytes: [UInt8] = []
    private let lock = NSLock()

    func append(_ chunk: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        if bytes.count < 4096 { bytes += chunk.prefix(4096 - bytes.count) }
    }

    var firstLine: String? {
        lock.lock()
        defer { lock.unlock() }
        let line = bytes.split(separator: 10).first.map { String(decoding: $0, as: UTF8.self) }
        return line?.isEmpty == false ? line : nil
    }
}
