import CArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs libarchive calls under a UTF-8 character set, whatever the process locale is.
///
/// Why: libarchive converts tar names between "the current locale" and UTF-8 (pax `path`
/// records are UTF-8). Under the C locale — the default of a process that never calls
/// `setlocale`, and of CI — that conversion fails for every non-ASCII name, and libarchive's pax
/// writer then dereferences a missing name (SIGSEGV on `Übersicht.ipynb`). Each archive caches
/// the charset it sees on its first conversion, so calling into it under a thread-local
/// `C.UTF-8` locale (`uselocale`, which touches neither the process locale nor other threads)
/// makes names pass through byte for byte: valid UTF-8 names become plain pax `path` records
/// (as Docker's and BuildKit's Go writers emit), and names that are not UTF-8 fall back to a
/// pax header marked `hdrcharset=BINARY` that still holds the exact bytes.
public enum ArchiveLocale {
    /// glibc ≥ 2.35 has `C.UTF-8` built in; the others are fallbacks for older C libraries.
    /// `nonisolated(unsafe)` because `locale_t` is a C pointer (not `Sendable`); it is safe: the
    /// locale is made once (a `static let` is initialised exactly once), never changed or freed,
    /// and glibc lets any number of threads `uselocale` the same locale object at once.
    nonisolated(unsafe) private static let utf8Locale: locale_t? = {
        for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8"] {
            if let locale = newlocale(LC_CTYPE_MASK, name, nil) { return locale }
        }
        return nil
    }()

    /// `body` with this thread's locale set to a UTF-8 one, restored afterwards. Must not
    /// suspend (libarchive calls are synchronous), so the thread cannot change underneath.
    public static func utf8<T>(_ body: () throws -> T) rethrows -> T {
        guard let locale = utf8Locale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }

    /// The C locale (ASCII), for reading.
    nonisolated(unsafe) private static let byteLocale: locale_t? = newlocale(LC_CTYPE_MASK, "C", nil)

    /// `body` with this thread's locale set to C, restored afterwards: how archives are read.
    ///
    /// Why not UTF-8 as for writing: libarchive's reader converts every pax `path`, `linkpath`
    /// from UTF-8 to the locale's charset, and a conversion from UTF-8 first normalises the
    /// name to Unicode NFC (libarchive's `SCONV_NORMALIZATION_C`, on all but Apple systems):
    /// under `C.UTF-8`, `e` + U+0301 would be read as `é` (U+00E9), another file. Under C the
    /// conversion of a non-ASCII name fails, and libarchive keeps the record's own bytes (with
    /// a warning, which `TarReader` accepts): every name is read exactly as the archive has it.
    /// Must not suspend, like `utf8(_:)`.
    public static func bytes<T>(_ body: () throws -> T) rethrows -> T {
        guard let locale = byteLocale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }

    /// Makes a fresh writer cache UTF-8 as its charset before it converts anything.
    public static func pin(writer archive: OpaquePointer) {
        utf8 { _ = archive_write_set_options(archive, "hdrcharset=UTF-8") }
    }
}
