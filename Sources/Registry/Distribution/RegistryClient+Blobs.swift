import AsyncHTTPClient
import Foundation
import HTTPTransport
import ImageModel
import NIOCore
import NIOHTTP1

/// An upload session the registry opened: where to send the blob, and with which scopes
/// (the token obtained for the POST is reused for the PUT).
public struct UploadSession: Sendable {
    /// The absolute upload URL from `Location`, with any query the registry put there.
    public var location: String
    public var scopes: [AuthScope]
}

/// What `POST /v2/<repo>/blobs/uploads/` answered.
public enum UploadStart: Sendable {
    /// 201 to a mount request: the blob is now in the repository.
    case mounted
    /// 202: upload the blob to this session.
    case session(UploadSession)
}

/// The blob endpoints of the distribution spec, one request each.
extension RegistryClient {
    /// `HEAD /v2/<repo>/blobs/<digest>`: the blob's size when the repository has it, nil on 404.
    public func blobSize(_ digest: Digest, in repository: RegistryRepository,
                         scopes: [AuthScope]? = nil) async throws -> Int64? {
        let request = RegistryRequest(method: .HEAD, registry: repository.registry, target: repository.blobPath(digest),
                                      scopes: scopes ?? repository.pushScopes)
        let response = try await send(request)
        _ = try? await response.body.collect(upTo: 1 << 20)
        switch response.status.code {
        case 200:
            return response.headers.first(name: "Content-Length").flatMap(Int64.init) ?? -1
        case 404:
            return nil
        default:
            throw await Self.failure(response, registry: repository.registry, repository: repository.name,
                                     what: "check blob \(digest)")
        }
    }

    /// `POST /v2/<repo>/blobs/uploads/`, with `?mount=<digest>&from=<repo>` when mounting from
    /// another repository of the same registry. A registry that cannot mount answers 202
    /// with an ordinary session, which the caller uses to upload instead.
    public func startUpload(to repository: RegistryRepository, mounting digest: Digest? = nil,
                            from sourceRepository: String? = nil) async throws -> UploadStart {
        var target = repository.uploadsPath
        var scopes = repository.pushScopes
        if let digest, let sourceRepository {
            target += "?mount=\(Self.queryEscape(digest.description))&from=\(Self.queryEscape(sourceRepository))"
            scopes.append(.pull(sourceRepository))
        }
        let request = RegistryRequest(method: .POST, registry: repository.registry, target: target,
                                      scopes: scopes)
        let response = try await send(request)
        let what = digest.map { "mount blob \($0) from \(sourceRepository ?? "")" } ?? "start blob upload"
        switch response.status.code {
        case 201 where digest != nil:
            _ = try? await response.body.collect(upTo: 1 << 20)
            return .mounted
        case 202:
            _ = try? await response.body.collect(upTo: 1 << 20)
            guard let location = response.headers.first(name: "Location"), !location.isEmpty else {
                throw repository.error(.invalidResponse, status: 202, "\(what): the registry sent no upload Location")
            }
            let base = absoluteURL(repository.uploadsPath, registry: repository.registry)
            return .session(UploadSession(location: Self.resolve(location, against: base), scopes: scopes))
        default:
            throw await Self.failure(response, registry: repository.registry, repository: repository.name, what: what)
        }
    }

    /// Completes an upload in ONE request: `PUT <location>&digest=<digest>` with the whole
    /// blob as body (`application/octet-stream`; the transport sets Content-Length from the
    /// body's known length). Monolithic on purpose:
    /// Artifact Registry refuses chunked uploads. The registry checks the digest itself,
    /// so wrong bytes are never stored under it. Returns true when the answer named the
    /// digest it stored (`Docker-Content-Digest`) and it is `digest`: the registry then holds
    /// exactly these bytes, and a `HEAD` to check their size would tell nothing new.
    @discardableResult
    public func finishUpload(_ session: UploadSession, digest: Digest, body: RequestBody,
                             to repository: RegistryRepository,
                             onProgress: (@Sendable (Int) -> Void)? = nil) async throws -> Bool {
        let request = RegistryRequest(method: .PUT, registry: repository.registry,
                                      target: Self.uploadURL(session.location, digest: digest),
                                      headers: [("Content-Type", "application/octet-stream")],
                                      body: body, scopes: session.scopes, onProgress: onProgress)
        let response = try await send(request)
        guard response.status == .created || response.status == .noContent || response.status == .ok else {
            throw await Self.failure(response, registry: repository.registry, repository: repository.name,
                                     what: "push blob \(digest)")
        }
        _ = try? await response.body.collect(upTo: 1 << 20)
        guard let header = response.headers.first(name: "Docker-Content-Digest"),
              let stored = try? Digest(parsing: header), stored.algorithm == digest.algorithm else { return false }
        guard stored == digest else {
            throw repository.error(.digestMismatch, "push blob \(digest): the registry stored \(stored)")
        }
        return true
    }

    /// Uploads a blob while `produce` writes it into the sink it is given — for a layer whose
    /// digest is known only after its last byte (`build --push`). One streamed `PATCH` of
    /// unknown length (HTTP/1.1 chunked transfer encoding, no `Content-Range`), then
    /// `PUT <location>?digest=` with an empty body once `digest(result)` is known.
    ///
    /// Why PATCH and not one PUT: a PUT names its digest in the request line, before the
    /// body, and docker-registry answers a PUT without `digest=` with 400 DIGEST_INVALID
    /// ("digest missing") before reading it. The spec's way to send bytes first and name them
    /// at the end is this single PATCH plus the closing PUT — what containers/image (podman,
    /// skopeo) and go-containerregistry's streaming layers send.
    ///
    /// Artifact Registry (`*-docker.pkg.dev`, `gcr.io`) gets this same upload, by decision:
    /// its documentation says it "does not support Docker chunked uploads" and asks for
    /// monolithic ones (cloud.google.com/artifact-registry/docs/reference/docker-api, quoted in
    /// dotnet/sdk-container-builds#287; kitops-ml/kitops#777 failed only on layers it split
    /// into a second `PATCH` with `Content-Range`). A chunked upload is several `PATCH`es with
    /// `Content-Range`; one `PATCH` of unknown length then `PUT ?digest=` is exactly what
    /// `docker push` sends (distribution's `httpBlobUpload.ReadFrom`: a body of no length,
    /// chunked over HTTP/1.1), and `docker push` is how AR's own documentation pushes. So the
    /// rule, for every registry: one `PATCH` per session, never `Content-Range`, never a
    /// second `PATCH` (a short `Range` is an error, not a reason to send more), a `POST` with
    /// `Content-Length: 0` (AR's front end answers 411 to one without, oras-project/rust-oci-client#176;
    /// AsyncHTTPClient sends it). `scripts/registries.sh`'s Artifact-Registry-style fixture
    /// enforces these and is tested with it. A registry that refuses the stream anyway fails
    /// here, and the caller falls back to a file and `finishUpload` (one monolithic PUT).
    ///
    /// With `keeping` (a sink that creates the file at `path`: the blob is kept there too, as
    /// `build --push -t` keeps its layers), the sink `produce` gets writes that file and the
    /// request reads it back behind the producer (`FileFollowingUpload`): the producer never
    /// waits on the network and never sees the upload's failure — the file is completed, and
    /// this then throws the upload's `RegistryError`, so the caller can send the file in one
    /// request. Without, the bytes go through a small memory channel (`StreamedBlobUpload`)
    /// that holds the producer back while the registry lags.
    ///
    /// Errors `produce` throws are rethrown as they are (the upload is abandoned); a refused
    /// or broken upload throws `RegistryError`. The registry checks the digest itself.
    public func uploadStreamed<T>(to repository: RegistryRepository,
                                  keeping file: (sink: any BlobSink, path: String)? = nil,
                                  producing produce: (any BlobSink) async throws -> T,
                                  digest: (T) -> (digest: Digest, size: Int64)) async throws -> T {
        let channel: any StreamedUploadSource
        if let file {
            do {
                channel = try FileFollowingUpload(file: file.sink, path: file.path)
            } catch {
                file.sink.abandon()
                throw error
            }
        } else {
            channel = StreamedBlobUpload(name: "upload to \(repository.registry)/\(repository.name)")
        }
        // The session is opened beside the producer, not before it: compression starts at
        // once and fills the channel while the POST (and a token request, the first time)
        // is under way — a round trip or two that a real network would otherwise add per layer.
        async let patched: (UploadSession, Int64?) = { [self] in
            do {
                guard case .session(let session) = try await startUpload(to: repository) else {
                    throw repository.error(.invalidResponse, "start blob upload: unexpected answer")
                }
                return try await sendStream(channel, session: session, to: repository)
            } catch {
                channel.fail(error)  // ends the body; wakes a producer blocked on a full channel
                throw error
            }
        }()
        let result: T
        do {
            result = try await produce(channel)
        } catch {
            // The upload failed first (refused, connection lost): the producer only saw its
            // error through the sink, so the upload's error is the one to report.
            if let uploadError = channel.failed {
                _ = try? await patched
                throw uploadError
            }
            channel.abandon()
            _ = try? await patched
            throw error
        }
        let (digest, size) = digest(result)
        let (next, received) = try await patched
        if let received, received != size {
            throw repository.error(.invalidResponse, "push blob \(digest): the registry received \(received) of \(size) bytes")
        }
        try await finishUpload(next, digest: digest, body: .bytes([]), to: repository)
        return result
    }

    /// The streamed `PATCH`: the channel's chunks as a body of unknown length. Returns the
    /// session to finish (the answer's `Location`) and the byte count its `Range` confirms.
    private func sendStream(_ channel: any StreamedUploadSource, session: UploadSession,
                            to repository: RegistryRepository) async throws -> (UploadSession, Int64?) {
        let request = RegistryRequest(method: .PATCH, registry: repository.registry, target: session.location,
                                      headers: [("Content-Type", "application/octet-stream")],
                                      body: .stream(length: nil, makeStream: { channel.makeStream() }),
                                      scopes: session.scopes)
        let response = try await send(request)
        guard response.status == .accepted else {
            throw await Self.failure(response, registry: repository.registry, repository: repository.name,
                                     what: "stream blob upload")
        }
        _ = try? await response.body.collect(upTo: 1 << 20)
        var next = session
        if let location = response.headers.first(name: "Location"), !location.isEmpty {
            next.location = Self.resolve(location, against: session.location)
        }
        // `Range: 0-<last byte>` (docker-registry); a registry may leave it out.
        let received = response.headers.first(name: "Range")
            .flatMap { $0.split(separator: "-").last.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } }
            .map { $0 + 1 }
        return (next, received)
    }

    /// `GET /v2/<repo>/blobs/<digest>` (redirects to storage are followed without credentials).
    /// Returns the response with its body unread, and the length when announced.
    public func openBlob(_ digest: Digest, in repository: RegistryRepository) async throws
        -> (response: HTTPClientResponse, length: Int64?) {
        let request = RegistryRequest(method: .GET, registry: repository.registry, target: repository.blobPath(digest),
                                      scopes: repository.pullScopes)
        let response = try await send(request)
        guard response.status == .ok else {
            throw await Self.failure(response, registry: repository.registry, repository: repository.name,
                                     what: "pull blob \(digest)")
        }
        return (response, response.headers.first(name: "Content-Length").flatMap(Int64.init))
    }

    /// `openBlob`, with a body that resumes with a `Range` request after a dropped connection
    /// or a short body (the resumed request goes through redirects and authentication again).
    func openResumableBlob(_ digest: Digest, in repository: RegistryRepository, expectedSize: Int64?) async throws
        -> (body: ResumableBody, length: Int64?) {
        let (response, length) = try await openBlob(digest, in: repository)
        let url = absoluteURL(repository.blobPath(digest), registry: repository.registry)
        let body = ResumableBody(response, expectedLength: expectedSize ?? length, url: url, policy: RetryPolicy(options.transport)) {
            [self] offset in
            let request = RegistryRequest(method: .GET, registry: repository.registry, target: repository.blobPath(digest),
                                          headers: [("Range", "bytes=\(offset)-")], scopes: repository.pullScopes)
            return try await send(request)
        }
        return (body, length)
    }

    /// The upload URL with `digest=` added to whatever query `Location` already carries.
    static func uploadURL(_ location: String, digest: Digest) -> String {
        let separator: String
        if let q = location.firstIndex(of: "?") {
            separator = location[q...].count == 1 || location.hasSuffix("&") ? "" : "&"
        } else {
            separator = "?"
        }
        return location + separator + "digest=" + queryEscape(digest.description)
    }

    /// Percent-encodes a query value (`sha256:…` → `sha256%3A…`, `/` kept as is in paths).
    static func queryEscape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
