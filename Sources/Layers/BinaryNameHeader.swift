/// The tar header of an entry whose name or link target is not UTF-8, written the way Go's
/// `archive/tar` writes it — the writer under BuildKit's and Docker's layer diffs
/// (containerd's `archive.WriteDiff`, moby's `pkg/archive`): a pax extended header whose `path`
/// record holds the raw bytes, with **no** `hdrcharset` record, then a ustar header whose name
/// field keeps only the ASCII bytes (Go's `toASCII`). GNU tar 1.34 writes such names the same
/// way (raw `path`, no `hdrcharset`, checked with `tar --format=pax` under C and C.UTF-8).
///
/// Why hand-written: POSIX says pax `path` values are UTF-8 unless `hdrcharset=BINARY` says
/// otherwise, and libarchive's pax writer therefore adds `hdrcharset=BINARY` to such an entry,
/// which Go (BuildKit, the reference) and GNU tar never write. Readers take the raw bytes
/// either way: GNU tar keeps a name it cannot convert as it is, Go's reader (umoci, skopeo,
/// containerd) never converts, libarchive returns the raw bytes with a warning.
///
/// One exception, for libarchive (3.6), which drops a symlink target whose pax `linkpath` is
/// not UTF-8 (the entry reads back with no target at all): such a target of at most 100 bytes
/// goes raw into the ustar link field, as GNU tar writes it (Go reads that field raw too); a
/// longer one needs the `linkpath` record and then gets `hdrcharset=BINARY`, which libarchive
/// honours and Go and GNU tar ignore or accept. Bytes only, no I/O.
struct BinaryNameHeader {
    /// ustar type flags.
    enum TypeFlag: UInt8 {
        case regular = 0x30, hardlink = 0x31, symlink = 0x32, character = 0x33, block = 0x34,
             directory = 0x35, fifo = 0x36
    }

    var path: [UInt8]
    var type: TypeFlag
    var mode: UInt32
    var uid: Int
    var gid: Int
    var size: Int64
    var mtime: Int64
    /// Symlink or hard-link target.
    var link: [UInt8] = []
    var deviceMajor: Int = 0
    var deviceMinor: Int = 0
    /// Extended attributes as `SCHILY.xattr.NAME` records (as Go writes `Header.Xattrs`).
    var xattrs: [(name: [UInt8], value: [UInt8])] = []

    /// The pax header block(s), its records padded to 512 bytes, and the ustar header block.
    var bytes: [UInt8] {
        var name = path
        if type == .directory && name.last != UInt8(ascii: "/") { name.append(UInt8(ascii: "/")) }
        var records: [(key: [UInt8], value: [UInt8])] = [(Array("path".utf8), name)]
        let binarySymlink = type == .symlink && String(validating: link, as: UTF8.self) == nil
        var ustarLink = link  // raw for a short binary symlink target (see the type's doc)
        if !(binarySymlink && link.count <= 100), !link.isEmpty && (link.count > 100 || link.contains { $0 >= 0x80 }) {
            records.append((Array("linkpath".utf8), link))
            if binarySymlink { records.append((Array("hdrcharset".utf8), Array("BINARY".utf8))) }
            ustarLink = link.filter { $0 < 0x80 }
        }
        let octalLimit7: Int64 = 0o7777777, octalLimit11: Int64 = 0o77777777777
        if Int64(uid) > octalLimit7 || uid < 0 { records.append((Array("uid".utf8), Array(String(uid).utf8))) }
        if Int64(gid) > octalLimit7 || gid < 0 { records.append((Array("gid".utf8), Array(String(gid).utf8))) }
        if size > octalLimit11 { records.append((Array("size".utf8), Array(String(size).utf8))) }
        if mtime > octalLimit11 || mtime < 0 { records.append((Array("mtime".utf8), Array(String(mtime).utf8))) }
        for x in xattrs { records.append((Array("SCHILY.xattr.".utf8) + x.name, x.value)) }
        records.sort { $0.key.lexicographicallyPrecedes($1.key) }  // Go sorts the keys
        var data: [UInt8] = []
        for r in records { data += Self.record(r.key, r.value) }

        // Go names the extended header `dir/PaxHeaders.0/file`, ASCII only, at most 100 bytes.
        let slash = name.dropLast().lastIndex(of: UInt8(ascii: "/"))
        let dir = slash.map { Array(name[...$0]) } ?? []
        let file = slash.map { Array(name[($0 + 1)...]) } ?? name
        var paxName = dir + Array("PaxHeaders.0/".utf8) + file
        while paxName.last == UInt8(ascii: "/") { paxName.removeLast() }
        var out = Self.block(name: paxName, link: [], flag: UInt8(ascii: "x"), mode: 0, uid: 0, gid: 0,
                             size: Int64(data.count), mtime: 0, major: 0, minor: 0)
        out += data
        out += [UInt8](repeating: 0, count: Self.padding(Int64(data.count)))
        out += Self.block(name: name, link: ustarLink, flag: type.rawValue, mode: Int64(mode & 0o7777),
                          uid: Int64(uid), gid: Int64(gid), size: size, mtime: mtime,
                          major: Int64(deviceMajor), minor: Int64(deviceMinor))
        return out
    }

    /// Zero bytes after `size` bytes of data up to the next 512-byte boundary.
    static func padding(_ size: Int64) -> Int { Int((512 - size % 512) % 512) }

    /// One pax record, `"%d %s=%s\n"`, its length counting its own digits.
    static func record(_ key: [UInt8], _ value: [UInt8]) -> [UInt8] {
        let body = key.count + value.count + 3
        var size = body + String(body).utf8.count
        if String(size).utf8.count + body != size { size = body + String(size).utf8.count }
        return Array(String(size).utf8) + [UInt8(ascii: " ")] + key + [UInt8(ascii: "=")] + value + [UInt8(ascii: "\n")]
    }

    /// A ustar header block (Go's `templateV7Plus` + `setFormat(FormatPAX)`): strings reduced to
    /// ASCII and cut to their field, numbers in zero-padded octal (0 when they do not fit; the
    /// pax record carries them), the checksum last.
    static func block(name: [UInt8], link: [UInt8], flag: UInt8, mode: Int64, uid: Int64, gid: Int64,
                      size: Int64, mtime: Int64, major: Int64, minor: Int64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func string(_ offset: Int, _ length: Int, _ value: [UInt8], raw: Bool = false) {
            let kept = value.filter { $0 != 0 && (raw || $0 < 0x80) }
            for (i, byte) in kept.prefix(length).enumerated() { b[offset + i] = byte }
        }
        func octal(_ offset: Int, _ length: Int, _ value: Int64) {
            let limit = (Int64(1) << (3 * Int64(length - 1))) - 1
            let digits = Array(String(value >= 0 && value <= limit ? value : 0, radix: 8).utf8)
            string(offset, length, [UInt8](repeating: UInt8(ascii: "0"), count: max(0, length - 1 - digits.count)) + digits)
            b[offset + length - 1] = 0
        }
        string(0, 100, name)
        octal(100, 8, mode)
        octal(108, 8, uid)
        octal(116, 8, gid)
        octal(124, 12, size)
        octal(136, 12, mtime)
        b[156] = flag
        string(157, 100, link, raw: true)  // the caller reduced it to ASCII unless it must stay raw
        string(257, 6, Array("ustar".utf8))  // magic "ustar\0", version "00"
        string(263, 2, Array("00".utf8))
        octal(329, 8, major)
        octal(337, 8, minor)
        for i in 148..<156 { b[i] = UInt8(ascii: " ") }
        let sum = b.reduce(0) { $0 + Int64($1) }
        octal(148, 7, sum)
        b[155] = UInt8(ascii: " ")
        return b
    }
}
