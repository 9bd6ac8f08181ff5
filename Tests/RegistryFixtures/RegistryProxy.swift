import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// A reverse proxy in front of a loopback registry that misbehaves on purpose.
///
/// Requests are forwarded unchanged, `Host` included, so the registry's `Location` headers
/// point back at the proxy. Then, by mode:
/// - `corruptBlobs`: the body of every successful `GET /v2/<name>/blobs/<digest>` has one byte
///   flipped (the middle one); `Content-Length` is kept, so only a digest check notices.
/// - `stripService`: `service="…"` is removed from `WWW-Authenticate: Bearer` challenges, as
///   Artifact Registry's challenges carry none (docker-registry 2.8 always writes one).
/// - `referrersAPI`: the registry gains the OCI 1.1 referrers API (`ReferrersAPI`).
/// - `artifactRegistry`: as `stripService`, and uploads follow Artifact Registry's rules
///   (`ArtifactRegistryUploads`: one PATCH per session, no `Content-Range`, a POST needs
///   `Content-Length`).
/// - `noChunkedBodies`: a `PUT`/`PATCH` whose body comes without `Content-Length` (HTTP/1.1
///   chunked transfer encoding) gets `411 Length Required`, as from a registry or a front end
///   that takes no streamed uploads; `build --push` must then fall back to a file upload.
struct RegistryProxy {
    let spec: ProxySpec
    let referrers = ReferrersAPI()
    let artifactRegistry = ArtifactRegistryUploads()

    /// Headers that describe one connection, not the message.
    private static let hopByHop: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-connection", "proxy-authenticate", "proxy-authorization", "content-length",
    ]

    func responder() -> CallbackResponder<BasicRequestContext> {
        CallbackResponder { request, _ in try await self.forward(request) }
    }

    private func forward(_ request: Request) async throws -> Response {
        if spec.mode == .referrersAPI, request.method == .get, let target = ReferrersAPI.referrersTarget(request.head.path ?? "") {
            return referrers.answer(name: target.name, digest: target.digest, query: target.query)
        }
        let body = try await request.body.collect(upTo: 1 << 30)
        if spec.mode == .artifactRegistry, let refusal = artifactRegistry.refusal(for: request, bodyLength: body.readableBytes) {
            return refusal
        }
        if spec.mode == .noChunkedBodies, request.method == .put || request.method == .patch,
           request.headers[.contentLength] == nil, body.readableBytes > 0 {
            print("proxy :\(spec.listenPort): \(request.method) \(request.head.path ?? "/") -> 411 (body without Content-Length)")
            return Response(status: .init(code: 411, reasonPhrase: "Length Required"),
                            headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"errors":[{"code":"UNSUPPORTED","message":"chunked request bodies are not accepted"}]}"#)))
        }
        var headers = HTTPHeaders()
        if let authority = request.head.authority { headers.add(name: "Host", value: authority) }
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.add(name: "Connection", value: "close")
        if body.readableBytes > 0 || ["POST", "PUT", "PATCH"].contains(request.method.rawValue) {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        let path = request.head.path ?? "/"
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue), uri: path, headers: headers)
        var upstream = try await UpstreamClient(host: spec.upstreamHost, port: spec.upstreamPort).send(head, body: body)
        if spec.mode == .artifactRegistry { artifactRegistry.record(request, status: Int(upstream.head.status.code)) }

        var fields = HTTPFields()
        for (name, value) in upstream.head.headers {
            let lower = name.lowercased()
            guard let fieldName = HTTPField.Name(name) else { continue }
            if lower == "content-length" {
                // Kept for HEAD answers, whose body is empty; bodies are never resized here.
                fields.append(HTTPField(name: fieldName, value: value))
            } else if !Self.hopByHop.contains(lower) {
                let strips = spec.mode == .stripService || spec.mode == .artifactRegistry
                let rewritten = strips && lower == "www-authenticate" ? Self.withoutService(value) : value
                fields.append(HTTPField(name: fieldName, value: rewritten))
            }
        }
        if spec.mode == .corruptBlobs, request.method == .get, upstream.head.status == .ok,
           Self.isBlobPath(path), upstream.body.readableBytes > 0 {
            let index = upstream.body.readerIndex + upstream.body.readableBytes / 2
            let byte = upstream.body.getInteger(at: index, as: UInt8.self)!
            upstream.body.setInteger(byte ^ 0xFF, at: index)
            print("proxy :\(spec.listenPort): corrupted byte \(index) of \(path)")
        }
        if spec.mode == .referrersAPI, request.method == .put, upstream.head.status == .created,
           let name = Self.manifestRepository(path),
           let subject = referrers.record(name: name, body: body, contentType: request.headers[.contentType],
                                          digest: upstream.head.headers.first(name: "Docker-Content-Digest")) {
            fields.append(HTTPField(name: HTTPField.Name("OCI-Subject")!, value: subject))
        }
        if fields[.contentLength] == nil, request.method != .head {
            fields[.contentLength] = String(upstream.body.readableBytes)
        }
        print("proxy :\(spec.listenPort): \(request.method) \(path) -> \(upstream.head.status.code)")
        return Response(
            status: HTTPResponse.Status(code: Int(upstream.head.status.code), reasonPhrase: upstream.head.status.reasonPhrase),
            headers: fields,
            body: .init(byteBuffer: upstream.body)
        )
    }

    /// `/v2/<name>/blobs/<digest>` (not `/blobs/uploads/…`).
    static func isBlobPath(_ path: String) -> Bool {
        let plain = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        guard plain.hasPrefix("/v2/"), let range = plain.range(of: "/blobs/", options: .backwards) else { return false }
        let digest = plain[range.upperBound...]
        return !digest.isEmpty && !digest.contains("/") && digest != "uploads"
    }

    /// The repository of `/v2/<name>/manifests/<reference>`, nil for any other path.
    static func manifestRepository(_ path: String) -> String? {
        guard path.hasPrefix("/v2/"), let range = path.range(of: "/manifests/", options: .backwards) else { return nil }
        return String(path[path.index(path.startIndex, offsetBy: 4)..<range.lowerBound])
    }

    /// A challenge with its `service="…"` parameter (and the comma before or after it) removed.
    static func withoutService(_ challenge: String) -> String {
        guard let start = challenge.range(of: "service=\"") else { return challenge }
        guard let close = challenge[start.upperBound...].firstIndex(of: "\"") else { return challenge }
        var lower = start.lowerBound
        var upper = challenge.index(after: close)
        if lower > challenge.startIndex, challenge[challenge.index(before: lower)] == "," {
            lower = challenge.index(before: lower)
        } else if upper < challenge.endIndex, challenge[upper] == "," {
            upper = challenge.index(after: upper)
        }
        return String(challenge[..<lower] + challenge[upper...])
    }
}
