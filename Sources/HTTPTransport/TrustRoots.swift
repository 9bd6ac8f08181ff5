import Foundation
import NIOSSL

/// Extra certificate authorities from `SSL_CERT_FILE` and `SSL_CERT_DIR`, added to the
/// system trust store the way Go tools and OpenSSL honour them (private CAs, corporate proxies).
public enum TrustRoots {
    public static func fromEnvironment(_ environment: [String: String]) -> [NIOSSLAdditionalTrustRoots] {
        var roots: [NIOSSLAdditionalTrustRoots] = []
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty, FileManager.default.isReadableFile(atPath: file) {
            roots.append(.file(file))
        }
        if let dirs = environment["SSL_CERT_DIR"], !dirs.isEmpty {
            for dir in dirs.split(separator: ":").map(String.init) {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                var certificates: [NIOSSLCertificate] = []
                for name in names.sorted() {
                    let path = dir + "/" + name
                    if let certs = try? NIOSSLCertificate.fromPEMFile(path) { certificates.append(contentsOf: certs) }
                }
                if !certificates.isEmpty { roots.append(.certificates(certificates)) }
            }
        }
        return roots
    }
}
