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
            appendUTF8(digest.algorithm)
            pending.append(UInt8(ascii: ":"))
            appendUTF8(digest.encoded)
            flushIfFull()
        }

        /// The field `label` = `"\(uid):\(gid)"` (decimal, as interpolation writes them).
        mutating func add(_ label: String, owner uid: Int, _ gid: Int) {
            appendPart(label)
            // Length and value written in a scratch buffer and appended at once (appending
            // byte by byte checked the array's uniqueness and capacity for each).
            appendComposed { out in
                var at = 8
                at = Self.writeDecimal(uid, into: out, at: at)
                out[at] = UInt8(ascii: ":")
                at = Self.writeDecimal(gid, into: out, at: at + 1)
                Self.writeLength(at - 8, into: out)
                return at
            }
            flushIfFull()
        }

        /// The field `label` = `String(mode, radix: 8)` (a file mode, once per file of a COPY:
        /// making the string was a fortieth of a no-change rebuild).
        mutating func add(_ label: String, octal mode: UInt32) {
            appendPart(label)
            appendComposed { out in
                var digits = 1
                while mode >> (3 * digits) != 0 { digits += 1 }
                Self.writeLength(digits, into: out)
                for at in 0..<digits {
                    out[8 + at] = UInt8(ascii: "0") + UInt8((mode >> UInt32(3 * (digits - 1 - at))) & 7)
                }
                return 8 + digits
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
            appendUTF8(text)
        }

        /// A string's UTF-8 in one copy when it is stored contiguously (the generic append of
        /// a UTF8View went element by element).
        private mutating func appendUTF8(_ text: String) {
            let done: Void? = text.utf8.withContiguousStorageIfAvailable { pending.append(contentsOf: UnsafeRawBufferPointer($0)) }
            if done == nil { pending.append(contentsOf: text.utf8) }
        }

        private mutating func appendLength(_ count: Int) {
            withUnsafeBytes(of: UInt64(count).bigEndian) { pending.append(contentsOf: $0) }
        }

        /// Appends what `compose` writes into a 64-byte scratch buffer (it returns how many bytes).
        private mutating func appendComposed(_ compose: (UnsafeMutableBufferPointer<UInt8>) -> Int) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { scratch in
                let count = compose(scratch)
                pending.append(contentsOf: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: scratch[..<count])))
            }
        }

        /// `count` as 8 bytes big-endian at the start of `out`.
        private static func writeLength(_ count: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
            for at in 0..<8 { out[at] = UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(8 * (7 - at))) }
        }

        /// `value` in decimal (a leading `-` when negative) at `at`; returns where it ends.
        private static func writeDecimal(_ value: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
            var at = start
            if value < 0 {
                out[at] = UInt8(ascii: "-")
                at += 1
            }
            var magnitude = value.magnitude
            var digits = 1
            var scale: UInt = 1
            while magnitude / scale >= 10 {
                scale *= 10
                digits += 1
            }
            for _ in 0..<digits {
                out[at] = UInt8(ascii: "0") + UInt8(magnitude / scale)
                magnitude %= scale
                scale /= 10
                at += 1
            }
            return at
        }

        private mutating func flushIfFull() {
            guard pending.count >= Self.flushAt else { return }
            pending.withUnsafeBytes { stream.update($0) }
            pending.removeAll(keepingCapacity: true)
        }
    }
}
