import Foundation
import ImageBuilder
import ImageModel
import ImageStore

/// What `vertex run` / `vertex schedule` send as the job's `imageUri` for the IMAGE typed, and
/// the line that tells the user why.
struct VertexImageChoice: Equatable {
    var uri: String
    /// One stderr line saying what was pinned or mapped; nil when IMAGE is sent as typed.
    var note: String?
    /// A warning (the local tag moved since the push).
    var warning: String?
}

/// Pins the image a job runs to what this store pushed, so the job runs exactly what was built,
/// signed and attested even if the tag moves later (issue 16), and maps a local image ID to the
/// name it was pushed as (issue 17: docker takes IDs wherever it takes an image).
///
/// - IMAGE names a registry tag this store pushed → `REPO@sha256:…` of that push (`--no-pin`:
///   the tag as typed). A digest reference is already pinned and goes as typed.
/// - IMAGE is a local image (ID, short ID, or a local name never pushed under that name) that
///   was pushed → the name of its latest push, pinned likewise.
/// - IMAGE is an image ID never pushed → an error: Vertex AI can only pull from a registry.
/// - Otherwise (pushed by another tool, or from another machine) → as typed.
enum PushedImage {
    static func choose(_ text: String, storeRoot: String, pin: Bool) throws -> VertexImageChoice {
        // A user who never used the local store has nothing to pin; do not create one.
        guard FileManager.default.fileExists(atPath: storeRoot + "/oci-layout") else { return VertexImageChoice(uri: text) }
        let store = try ImageStore(root: storeRoot, ownership: NamespaceOwnership.current)
        let reference = try? Reference(parsing: text)
        if let reference, reference.digest != nil { return VertexImageChoice(uri: text) }
        if let reference, let record = try store.pushRecord(for: reference) {
            var choice = pinned(record, typed: text, pin: pin, mapped: false)
            if let local = try? store.resolve(reference), local.digest != record.digest {
                choice.warning = "the local \(reference.familiarDescription) now points at manifest \(local.digest), which was not pushed; "
                    + "the job runs the pushed \(record.digest)"
            }
            return choice
        }
        let local: ImageLookup?
        do {
            local = try store.lookup(text)
        } catch StoreError.imageNotFound {
            local = nil
        }
        guard let local else { return VertexImageChoice(uri: text) }
        if let record = try store.pushRecords(ofManifest: local.manifest.digest).first {
            return pinned(record, typed: text, pin: pin, mapped: true)
        }
        guard local.reference != nil else { throw neverPushed(text) }
        return VertexImageChoice(uri: text)
    }

    /// When `text` names a local image by ID (full, `sha256:`, unique short prefix), its latest
    /// push; nil when it is no local image ID (then it is a registry reference). `sign` and
    /// `verify` take IDs this way. Throws when the image was never pushed.
    static func pushedImage(byID text: String, storeRoot: String) throws -> PushRecord? {
        guard FileManager.default.fileExists(atPath: storeRoot + "/oci-layout") else { return nil }
        let store = try ImageStore(root: storeRoot, ownership: NamespaceOwnership.current)
        guard let local = try? store.lookup(text), local.reference == nil else { return nil }
        guard let record = try store.pushRecords(ofManifest: local.manifest.digest).first else { throw neverPushed(text) }
        return record
    }

    static func neverPushed(_ text: String) -> CommandFailure {
        CommandFailure("\(text) is a local image that was never pushed; it must be in a registry: "
            + "swiftdock push \(text) REGISTRY/REPOSITORY:TAG first", code: ExitCode32.failure)
    }

    static func pinned(_ record: PushRecord, typed: String, pin: Bool, mapped: Bool) -> VertexImageChoice {
        let source = mapped ? "\(typed) was pushed as \(record.reference)" : "\(typed) was pushed from this store"
        guard pin else {
            return VertexImageChoice(uri: mapped ? record.reference : typed, note: mapped ? "\(source); sending the tag (--no-pin)" : nil)
        }
        return VertexImageChoice(uri: record.pinned,
                                 note: "\(source) on \(record.pushed): the job runs \(record.pinned) (--no-pin sends the tag)")
    }
}
