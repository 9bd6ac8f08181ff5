import AsyncHTTPClient
import Foundation
import HTTPTransport
import ImageModel
import ImageStore

/// How one blob reached the destination repository.
public enum BlobPushOutcome: Sendable, Equatable {
    /// HEAD found it: nothing sent (`Layer already exists`).
    case alreadyExists
    /// Mounted from another repository of the same registry (`Mounted from REPO`).
    case mounted(from: String)
    /// Uploaded from the local store (`Pushed`).
    case uploaded
    /// Streamed from another registry without touching disk (`Pushed`).
    case copied(from: String)
}

/// Brings one blob into a destination repository, cheapest way first:
/// 1. `HEAD` — already there (also what makes a re-run after an interruption cheap);
/// 2. a cross-repository mount when the store records the blob in another repository of the
///    destination registry (201 = done; 202 = the session is used for the upload);
/// 3. one monolithic `PUT` of the local file;
/// 4. for a blob only known remotely: source `GET` streamed into the destination `PUT`,
///    SHA-256 checked on the way (see `VerifyingBlobStream`).
struct BlobPusher: Sendable {
    let client: RegistryClient
    let store: ImageStore
    let destination: RegistryRepository
    let sources: [Digest: [RemoteSource]]
    let onEvent: TransferObserver?

    func push(_ descriptor: Descriptor, isLayer: Bool) async throws -> BlobPushOutcome {
        let digest = descriptor.digest
        @Sendable func emit(_ state: TransferState) { onEvent?(TransferEvent(digest: digest, isLayer: isLayer, state: state)) }

        if try await client.blobSize(digest, in: destination) != nil {
            emit(.alreadyExists)
            return .alreadyExists
        }
        let remote = (sources[digest] ?? []).map(RegistryRepository.init)
        var session: UploadSession?
        for source in remote where source.registry == destination.registry && source.name != destination.name {
            do {
                switch try await client.startUpload(to: destination, mounting: digest, from: source.name) {
                case .mounted:
                    emit(.mounted(from: source.name))
                    return .mounted(from: source.name)
                case .session(let opened):
                    session = opened
                }
            } catch let error as RegistryError where error.kind != .transport {
                continue  // A registry that refuses the mount (e.g. no pull right on `from`): upload instead.
            }
            break
        }

        let progress = ByteProgress(total: descriptor.size) { done, total in
            emit(.pushing(completed: done, total: total))
        }
        if store.hasBlob(digest) {
            try await uploadLocal(descriptor, session: session, progress: progress)
            emit(.pushed)
            return .uploaded
        }
        guard !remote.isEmpty else {
            throw destination.error(.notFound, "push blob \(digest): not in the local store and no remote source is recorded")
        }
        let from = try await streamCopy(descriptor, sources: remote, session: session, progress: progress)
        emit(.pushed)
        return .copied(from: from.description)
    }

    /// POST (unless a mount attempt left a session) then one PUT streaming the stored file.
    private func uploadLocal(_ descriptor: Descriptor, session: UploadSession?, progress: ByteProgress) async throws {
        let digest = descriptor.digest
        let path = store.blobPath(digest)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? -1
        guard fileSize == descriptor.size else {
            throw destination.error(.digestMismatch, "push blob \(digest): the local blob \(path) has \(fileSize) bytes, "
                                    + "the manifest says \(descriptor.size)")
        }
        let opened: UploadSession
        if let session {
            opened = session
        } else {
            guard case .session(let fresh) = try await client.startUpload(to: destination) else {
                throw destination.error(.invalidResponse, "start blob upload: unexpected answer")
            }
            opened = fresh
        }
        do {
            try await client.finishUpload(opened, digest: digest, body: .file(path: path, size: descriptor.size),
                                          to: destination, onProgress: { progress.add($0) })
        } catch let error as RegistryError where error.status == 400 || error.kind == .digestMismatch {
            // The registry refused the content: say whether the local copy is to blame.
            if let (actual, _) = try? SHA256Stream.digestAndSize(ofFile: path), actual != digest {
                throw destination.error(.digestMismatch, "push blob \(digest): the local blob \(path) is corrupt "
                                        + "(content hashes to \(actual)); the registry refused it")
            }
            throw error
        }
    }

    /// Streams the blob from the first source that serves it into one PUT. A failure other
    /// than corrupt content (an expired token, a dropped connection) restarts the copy once
    /// with a fresh session: the POST re-authorizes before the next stream starts.
    private func streamCopy(_ descriptor: Descriptor, sources: [RegistryRepository], session: UploadSession?,
                            progress: ByteProgress) async throws -> RegistryRepository {
        let digest = descriptor.digest
        var session = session
        var lastError: Error?
        for attempt in 1...2 {
            var retry = false
            for source in sources {
                if session == nil {
                    guard case .session(let fresh) = try await client.startUpload(to: destination) else {
                        throw destination.error(.invalidResponse, "start blob upload: unexpected answer")
                    }
                    session = fresh
                }
                let opened: (body: ResumableBody, length: Int64?)
                do {
                    opened = try await client.openResumableBlob(digest, in: source, expectedSize: descriptor.size)
                } catch let error as RegistryError {
                    lastError = error  // This source cannot serve it; the session is still unused: try the next.
                    continue
                }
                if let length = opened.length, length != descriptor.size {
                    throw source.error(.digestMismatch, "blob \(digest) is corrupt at the source: "
                                       + "\(length) bytes, expected \(descriptor.size); not pushed")
                }
                let verifier = VerifyingBlobStream(opened.body, digest: digest, size: descriptor.size,
                                                   origin: source, onBytes: { progress.add($0) })
                let used = session!
                session = nil
                do {
                    try await client.finishUpload(used, digest: digest,
                                                  body: .stream(length: descriptor.size, makeStream: { verifier.makeStream() }),
                                                  to: destination)
                    return source
                } catch {
                    if let mismatch = verifier.mismatch {
                        throw RegistryError(.digestMismatch, registry: destination.registry, repository: destination.name,
                                            "push blob \(digest) copied from \(source): \(mismatch.message); not pushed")
                    }
                    guard attempt < 2, let failure = error as? RegistryError,
                          failure.kind == .unauthorized || failure.kind == .transport else { throw error }
                    lastError = error
                    retry = true
                    break
                }
            }
            if !retry { break }
        }
        throw lastError ?? destination.error(.notFound, "push blob \(digest): no source serves it")
    }
}
