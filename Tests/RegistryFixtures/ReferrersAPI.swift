import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The OCI distribution-spec v1.1 referrers API, added in front of a registry that lacks it
/// (docker-registry 2.8 answers `/v2/<name>/referrers/<digest>` with 404): the `referrers-api`
/// proxy mode. Manifests still go to the real registry; this only watches them.
///
/// - A successful `PUT /v2/<name>/manifests/<ref>` whose body has a `subject` is recorded
///   (descriptor with `artifactType` — else the config's media type — and the manifest's
///   annotations, as the spec says) and answered with `OCI-Subject: <subject digest>`.
/// - `GET /v2/<name>/referrers/<digest>[?artifactType=T]` answers the recorded descriptors as an
///   OCI index, one per page with `Link: <…?page=N>; rel="next"` (so clients must follow pages),
///   filtered by `artifactType` with `OCI-Filters-Applied: artifactType`; a malformed digest is 400.
/// The records live in memory, as long as the process.
final class ReferrersAPI: @unchecked Sendable {
    private let lock = NSLock()
    /// "<name>@<subject digest>" → descriptors in push order.
    private var records: [String: [[String: Any]]] = [:]

    /// `(name, digest)` of a referrers API path, nil for any other path.
    static func referrersTarget(_ path: String) -> (name: String, digest: String, query: String?)? {
        let parts = path.split(separator: "?", maxSplits: 1).map(String.init)
        guard parts[0].hasPrefix("/v2/"), let range = parts[0].range(of: "/referrers/", options: .backwards) else { return nil }
        let name = String(parts[0][parts[0].index(parts[0].startIndex, offsetBy: 4)..<range.lowerBound])
        return (name, String(parts[0][range.upperBound...]), parts.count > 1 ? parts[1] : nil)
    }

    /// The answer to `GET /v2/<name>/referrers/<digest>`.
    func answer(name: String, digest: String, query: String?) -> Response {
        let hex = digest.hasPrefix("sha256:") ? digest.dropFirst(7) : ""
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            return Self.json(.badRequest, ["errors": [["code": "DIGEST_INVALID", "message": "invalid digest"]]], headers: [:])
        }
        var parameters: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if kv.count == 2 { parameters[kv[0]] = kv[1] }
        }
        var list = lock.withLock { records[name + "@" + digest] ?? [] }
        var headers: [String: String] = [:]
        if let type = parameters["artifactType"] {
            list = list.filter { $0["artifactType"] as? String == type }
            headers["OCI-Filters-Applied"] = "artifactType"
        }
        let page = Int(parameters["page"] ?? "0") ?? 0
        let slice = page < list.count ? [list[page]] : []
        if page + 1 < list.count {
            var next = "/v2/\(name)/referrers/\(digest)?page=\(page + 1)"
            if let type = parameters["artifactType"] {
                next += "&artifactType=" + (type.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? type)
            }
            headers["Link"] = "<\(next)>; rel=\"next\""
        }
        print("referrers-api: GET \(name) \(digest) page \(page) -> \(slice.count) of \(list.count)")
        return Self.json(.ok, ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": slice],
                         headers: headers)
    }

    /// Records a manifest the registry accepted; returns its subject digest when it has one.
    func record(name: String, body: ByteBuffer, contentType: String?, digest: String?) -> String? {
        guard let digest, let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let subject = (object["subject"] as? [String: Any])?["digest"] as? String else { return nil }
        var descriptor: [String: Any] = [
            "mediaType": contentType ?? object["mediaType"] as? String ?? "application/vnd.oci.image.manifest.v1+json",
            "digest": digest, "size": body.readableBytes,
        ]
        if let type = object["artifactType"] as? String ?? (object["config"] as? [String: Any])?["mediaType"] as? String {
            descriptor["artifactType"] = type
        }
        if let annotations = object["annotations"] { descriptor["annotations"] = annotations }
        lock.withLock {
            var list = records[name + "@" + subject] ?? []
            if !list.contains(where: { $0["digest"] as? String == digest }) { list.append(descriptor) }
            records[name + "@" + subject] = list
        }
        return subject
    }

    private static func json(_ status: HTTPResponse.Status, _ object: [String: Any], headers: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        var fields = HTTPFields()
        fields[.contentType] = status == .ok ? "application/vnd.oci.image.index.v1+json" : "application/json"
        fields[.contentLength] = String(data.count)
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
