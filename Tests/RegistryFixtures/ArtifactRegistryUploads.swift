import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The blob-upload rules of Google Artifact Registry, for the `artifact-registry` proxy mode
/// (in front of a docker-registry with Artifact-Registry-style token auth). What is known of AR:
///
/// - It "does not support Docker chunked uploads … You must use monolithic uploads"
///   (cloud.google.com/artifact-registry/docs/reference/docker-api, quoted in
///   dotnet/sdk-container-builds#287); kitops-ml/kitops#777 saw its uploads fail only for
///   layers over 100 MB — the ones it sent as a second `PATCH` with `Content-Range`. So a
///   `PATCH` with `Content-Range`, a second `PATCH` to one session, or a closing `PUT` that
///   carries bytes after a `PATCH` (a last chunk) is refused here.
/// - A single `PATCH` of unknown length (chunked transfer encoding) then `PUT ?digest=` is what
///   `docker push` sends (distribution's `httpBlobUpload.ReadFrom`, over HTTP/1.1), and
///   `docker push` is the workflow AR documents; it is accepted here.
/// - A `POST` that opens an upload without `Content-Length` gets `411 Length Required` from
///   AR's front end (oras-project/rust-oci-client#176).
///
/// Sessions are remembered in memory for the life of the process.
final class ArtifactRegistryUploads: @unchecked Sendable {
    // @unchecked: `patched` is read and written under `lock`.
    private let lock = NSLock()
    /// Upload session paths (without query) that have had their one `PATCH`.
    private var patched: Set<String> = []

    /// The refusal AR would answer `request` with (whose body is `bodyLength` bytes), or nil to
    /// forward it.
    func refusal(for request: Request, bodyLength: Int) -> Response? {
        let path = request.head.path ?? "/"
        let plain = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        guard plain.hasPrefix("/v2/"), plain.contains("/blobs/uploads") else { return nil }
        switch request.method {
        case .post where request.headers[.contentLength] == nil:
            return Self.refuse(411, "Length Required", "a POST without Content-Length", path)
        case .patch:
            if request.headers[HTTPField.Name("Content-Range")!] != nil {
                return Self.refuse(400, "Bad Request", "a chunked upload (PATCH with Content-Range)", path)
            }
            if lock.withLock({ patched.contains(plain) }) {
                return Self.refuse(400, "Bad Request", "a chunked upload (a second PATCH)", path)
            }
            return nil
        case .put where bodyLength > 0 && lock.withLock({ patched.contains(plain) }):
            return Self.refuse(400, "Bad Request", "a chunked upload (a last chunk in the PUT after a PATCH)", path)
        default:
            return nil
        }
    }

    /// Remembers a `PATCH` the registry accepted (one refused for want of a token does not count).
    func record(_ request: Request, status: Int) {
        guard request.method == .patch, status == 202 else { return }
        let path = request.head.path ?? "/"
        let plain = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        lock.withLock { _ = patched.insert(plain) }
    }

    private static func refuse(_ code: Int, _ reason: String, _ what: String, _ path: String) -> Response {
        print("artifact-registry: \(path) -> \(code) (\(what))")
        let body = #"{"errors":[{"code":"UNSUPPORTED","message":"Artifact Registry does not support chunked uploads: "#
            + what + #""}]}"#
        return Response(status: .init(code: code, reasonPhrase: reason),
                        headers: [.contentType: "application/json", .contentLength: String(body.utf8.count)],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
