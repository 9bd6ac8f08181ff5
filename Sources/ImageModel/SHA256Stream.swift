import CCrypto
import FileDescriptorIO
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Incremental SHA-256 over a byte stream, backed by OpenSSL's EVP interface (which uses the
/// CPU's SHA extensions when present). It lives beside `Digest` so every module that names
/// content by its digest — layers, the store, the registry client — hashes the same way,
/// without depending on the layer writer's archive libraries.
///
/// Value semantics: copies are independent (the OpenSSL context is copied on write).
/// `@unchecked Sendable` is safe because of that: the only mutation (`update`) first makes the
/// context unique (`isKnownUniquelyReferenced`, as Array's copy-on-write does), and `finalize`
/// works on a fresh copy, so no two threads ever touch one EVP context.
public struct SHA256Stream: @unchecked Sendable {
    private final class Context {
        let ctx: OpaquePointer
        init() {
            ctx = EVP_MD_CTX_new()!
            EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        }
        init(copying other: Context) {
            ctx = EVP_MD_CTX_new()!
            EVP_MD_CTX_copy_ex(ctx, other.ctx)
        }
        deinit { EVP_MD_CTX_free(ctx) }
    }

    private var context = Context()

    /// The SHA-256 digest of `bytes` in one call.
    public static func digest(of bytes: [UInt8]) -> Digest {
        var stream = SHA256Stream()
        stream.update(bytes)
        return stream.finalize()
    }

    /// The SHA-256 digest of a file's content, read in 1 MiB chunks.
    public static func digest(ofFile path: String) throws -> Digest {
        try digestAndSize(ofFile: path).digest
    }

    /// The SHA-256 digest and byte count of a file's content, read in 1 MiB chunks: the one
    /// place a file is hashed (the store verifying a blob, the pusher re-checking one, the
    /// builder's cache keys).
    public static func digestAndSize(ofFile path: String) throws -> (digest: Digest, size: Int64) {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw ContentReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var stream = SHA256Stream()
        var size: Int64 = 0
        // Sized to the file (a build context's 30k small files would otherwise each cost a
        // zeroed 1 MiB buffer: seconds of memset per build), never zero-filled.
        var st = stat()
        let expected = fstat(fd, &st) == 0 ? Int(st.st_size) : 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(4096, min(1 << 20, expected + 1)), alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n: Int
            do throws(FileDescriptorIOError) {
                n = try FileDescriptorIO.read(fd, into: buffer)
            } catch {
                throw ContentReadError(path: path, reason: error.reason)
            }
            if n == 0 { break }
            size += Int64(n)
            stream.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return (stream.finalize(), size)
    }

    /// Creates a stream over no bytes yet.
    public init() {}

    /// Feeds `bytes` into the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        EVP_DigestUpdate(context.ctx, base, bytes.count)
    }

    /// Feeds `bytes` into the hash.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of every byte fed so far. The stream stays usable; more bytes may follow.
    public func finalize() -> Digest {
        let done = Context(copying: context)
        var md = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(done.ctx, &md, &length)
        return Digest(sha256Bytes: md)
    }
}
