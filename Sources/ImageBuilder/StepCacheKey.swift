import Foundation
import ImageModel
import Layers

/// The identity of one build step, derived from content only — never from mtimes — so the same
/// inputs give the same key in any process on any machine: SHA-256 over a canonical encoding
/// (a version tag, then each field as length-prefixed label and value, in a fixed order) of the
/// parent's key, the instruction as written and as expanded (flags included), the build args
/// the stage sees, the platform and output options, and what the step reads (see
/// `contentDigest(of:)`, `treeDigest(of:)`).
///
/// Like BuildKit's cache keys the chain makes a key depend on everything before it: the first
/// step's parent is the base image's manifest digest (or a constant for `scratch`).
struct StepCacheKey: Sendable {
    private var hasher = FieldHasher()
    /// Fields from the first one whose value is not known yet on (see `Reference`), in order;
    /// empty while every field so far is hashed.
    private var queued: [QueuedField] = []

    // v2: names that are not UTF-8 are written byte-exact (v1 could record an ADD'ed
    // archive's such symlink with an empty target), so no v1 record is reused.
    private static let version = "v2"

    /// Starts a key whose parent is `parent` (a step key, or one of `scratchParent`/`imageParent`).
    init(parent: String) {
        add("swiftdock-step-cache", Self.version)
        add("parent", parent)
    }

    /// Starts a key whose parent may still be waiting for a layer write.
    init(parent: Reference) {
        switch parent {
        case .known(let value): self.init(parent: value)
        case .deferred(let key): self.init(deferredParent: key)
        }
    }

    /// The same fields as `init(parent:)`, the parent's value hashed once it is known.
    private init(deferredParent: StepCacheKey) {
        add("swiftdock-step-cache", Self.version)
        queued = [.parent(deferredParent)]
    }

    /// Appends one field: `len(label) label len(value) value`, lengths as 8 bytes big-endian, so
    /// no two different field lists encode to the same bytes.
    mutating func add(_ label: String, _ value: String) {
        guard queued.isEmpty else { return queued.append(.text(label, value)) }
        hasher.add(label, value)
    }

    /// `add(label, digest.description)` without making that string (once per file of a COPY).
    private mutating func add(_ label: String, digest: Digest) {
        guard queued.isEmpty else { return queued.append(.text(label, digest.description)) }
        hasher.add(label, digest: digest)
    }

    /// `add(label, "\(uid):\(gid)")` without making that string.
    private mutating func add(_ label: String, owner uid: Int, _ gid: Int) {
        guard queued.isEmpty else { return queued.append(.text(label, "\(uid):\(gid)")) }
        hasher.add(label, owner: uid, gid)
    }

    /// `add(label, String(mode, radix: 8))` without making that string.
    private mutating func add(_ label: String, octal mode: UInt32) {
        guard queued.isEmpty else { return queued.append(.text(label, String(mode, radix: 8))) }
        hasher.add(label, octal: mode)
    }

    /// Appends a field whose value a folded COPY learns from its own layer write.
    mutating func add(_ label: String, _ value: FoldedContent) {
        queued.append(.content(label, value))
    }

    /// Whether every field is known, so `value` may be read.
    var isKnown: Bool { queued.isEmpty }

    /// The key: lower-case hex SHA-256. Only for a key whose fields are all known (`isKnown`).
    var value: String {
        precondition(queued.isEmpty, "a deferred step key read before it was resolved")
        return hasher.finalize().encoded
    }

    /// The key as the next step's parent: its value, or the key itself while it waits.
    var reference: Reference { queued.isEmpty ? .known(value) : .deferred(self) }

    /// The value once every folded COPY it depends on has settled (`FoldedContent.settle`);
    /// throws when one of them failed.
    func resolved() throws -> String {
        var hasher = self.hasher
        for field in queued {
            switch field {
            case .text(let label, let value): hasher.add(label, value)
            case .parent(let key): hasher.add("parent", try key.resolved())
            case .content(let label, let folded): hasher.add(label, try folded.digest())
            }
        }
        return hasher.finalize().encoded
    }

    /// The parent key of a stage's first step when it starts from `scratch`.
    static func scratchParent() -> String {
        var key = StepCacheKey(parent: "")
        key.add("base", "scratch")
        return key.value
    }

    /// The parent key of a stage's first step when it starts from an image.
    static func imageParent(manifest: Digest) -> String {
        var key = StepCacheKey(parent: "")
        key.add("base", manifest.description)
        return key.value
    }

    /// The parent key of a stage that starts from an earlier stage (`FROM builder`): that
    /// stage's last key, marked as a new stage (its ARGs and CMD state start afresh).
    static func stageParent(_ parentStageKey: String) -> String {
        var key = StepCacheKey(parent: parentStageKey)
        key.add("base", "stage")
        return key.value
    }

    /// `stageParent` of a key that may still wait for a folded COPY.
    static func stageParent(_ parentStageKey: Reference) -> Reference {
        var key = StepCacheKey(parent: parentStageKey)
        key.add("base", "stage")
        return key.reference
    }

    /// What a layer-producing step will write, minus mtimes: each item's path, type, mode,
    /// owner, symlink/hardlink target and the SHA-256 of its bytes (read from the source file),
    /// in the order written. For COPY/ADD these are exactly the sources selected after
    /// `.dockerignore`, with destination, `--chown` and `--chmod` already applied.
    /// `fileDigest` hashes a source file (see `FileDigestIndex`, which skips unchanged ones).
    static func contentDigest(of items: [LayerItem],
                              fileDigest: (String) throws -> Digest = SHA256Stream.digest(ofFile:)) throws -> String {
        try contentDigest(of: items) { _, path in try fileDigest(path) }
    }

    /// The same, with `fileDigest` also told the item's position in `items`.
    static func contentDigest(of items: [LayerItem], fileDigest: (Int, String) throws -> Digest) throws -> String {
        var key = StepCacheKey(parent: "")
        for (position, item) in items.enumerated() {
            switch item {
            case .entry(let entry):
                key.add("path", entry.path)
                key.add("mode", octal: entry.mode)
                key.add("owner", owner: entry.uid, entry.gid)
                switch entry.kind {
                case .directory: key.add("type", "dir")
                case .symlink(let target): key.add("symlink", target)
                case .hardlink(let target): key.add("hardlink", target)
                case .regularFile(.file(let path, _)): key.add("file", digest: try fileDigest(position, path))
                case .regularFile(.bytes(let bytes)): key.add("file", digest: SHA256Stream.digest(of: bytes))
                }
            case .archive(let path, let destination, let owner):
                key.add("archive", try SHA256Stream.digest(ofFile: path).description)
                key.add("destination", destination)
                key.add("owner", owner.map { "\($0.uid):\($0.gid)" } ?? "")
            }
        }
        return key.value
    }

    /// A directory tree's content (a RUN bind mount's source): every entry's relative path,
    /// type, mode, owner, symlink target and file bytes' SHA-256, names sorted bytewise;
    /// symlinks are not followed. A single file is hashed the same way with an empty path.
    /// `followRoot`: the root itself is read through a symlink (a `/proc/self/fd/N` file).
    static func treeDigest(of root: String, followRoot: Bool = false) throws -> String {
        var key = StepCacheKey(parent: "")
        try addTree(root, relative: "", follow: followRoot, to: &key)
        return key.value
    }

    private static func addTree(_ path: String, relative: String, follow: Bool = false, to key: inout StepCacheKey) throws {
        var st = stat()
        guard (follow ? stat(path, &st) : lstat(path, &st)) == 0 else { throw BuildError("\(path): \(String(cString: strerror(errno)))") }
        key.add("path", relative)
        key.add("mode", String(UInt32(st.st_mode), radix: 8))
        key.add("owner", "\(st.st_uid):\(st.st_gid)")
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            key.add("file", try SHA256Stream.digest(ofFile: path).description)
        case S_IFLNK:
            key.add("symlink", (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "")
        case S_IFDIR:
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for name in names {
                try addTree(path + "/" + name, relative: relative.isEmpty ? name : relative + "/" + name, to: &key)
            }
        default:
            key.add("device", "\(st.st_rdev)")
        }
    }
}
