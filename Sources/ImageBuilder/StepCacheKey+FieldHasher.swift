import ImageModel

extension StepCacheKey {
    /// SHA-256 over `StepCacheKey`'s encoding — per field `len(label) label len(value) value`,
    /// lengths as 8 bytes big-endian — fed to OpenSSL in 16 KiB runs.
    ///
    /// Why buffered: a COPY of 32k files adds four fields per file; hashing each length and each
    /// string with its own `EVP_DigestUpdate`, after copying the string into an array, was a
    /// tenth of a no-change rebuild (issue 13). The bytes hashed are the same.
    struct FieldHasher: Sendable {
        private var stream = SHA256Stream()
        private var pending: [UInt8] = []
        private static let flushAt = 16 << 10

        mutating func add(_ label: String, _ value: String) {
            appendPart(label)
            appendPart(value)
            flushIfFull()
        }

        /// The field `label` = `digest.description` (`algorithm:hex`).
        mutating func add(_ label: String, digest: Digest) {
            appendPart(label)
            appendLength(digest.algorithm.utf8.count + 1 + digest.encoded.utf8.count)
            pending.append(contentsOf: digest.algorithm.utf8)
            pending.append(UInt8(ascii: ":"))
            pending.append(contentsOf: digest.encoded.utf8)
            flushIfFull()
        }

        /// The field `label` = `"\(uid):\(gid)"` (decimal, as interpolation writes them).
        mutating func add(_ label: String, owner uid: Int, _ gid: Int) {
            appendPart(label)
            let lengthAt = pending.count
            appendLength(0)
            appendDecimal(uid)
            pending.append(UInt8(ascii: ":"))
            appendDecimal(gid)
            let length = UInt64(pending.count - lengthAt - 8).bigEndian
            withUnsafeBytes(of: length) { bytes in
                for (offset, byte) in bytes.enumerated() { pending[lengthAt + offset] = byte }
            }
            flushIfFull()
        }

        /// The field `label` = `String(mode, radix: 8)` (a file mode, once per file of a COPY:
        /// making the string was a fortieth of a no-change rebuild).
        mutating func add(_ label: String, octal mode: UInt32) {
            appendPart(label)
            var digits = 1
            while mode >> (3 * digits) != 0 { digits += 1 }
            appendLength(digits)
            for shift in stride(from: 3 * (digits - 1), through: 0, by: -3) {
                pending.append(UInt8(ascii: "0") + UInt8((mode >> UInt32(shift)) & 7))
            }
            flushIfFull()
        }

        /// The digest of every field added so far.
        func finalize() -> Digest {
            var stream = self.stream
            pending.withUnsafeBytes { stream.update($0) }
            return stream.finalize()
        }

        private mutating func appendPart(_ text: String) {
            appendLength(text.utf8.count)
            pending.append(contentsOf: text.utf8)
        }

        private mutating func appendLength(_ count: Int) {
            withUnsafeBytes(of: UInt64(count).bigEndian) { pending.append(contentsOf: $0) }
        }

        private mutating func appendDecimal(_ value: Int) {
            if value < 0 { pending.append(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var start = digits.count
                repeat {
                    start -= 1
                    digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                } while magnitude > 0
                pending.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
            }
        }

        private mutating func flushIfFull() {
            guard pending.count >= Self.flushAt else { return }
            pending.withUnsafeBytes { stream.update($0) }
            pending.removeAll(keepingCapacity: true)
        }
    }
}
