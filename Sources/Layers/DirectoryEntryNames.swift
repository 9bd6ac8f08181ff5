/// The entry names of directory `path` (no `.`, `..`), each as its bytes (`PathBytes`: a name
/// that is not UTF-8, or that differs from another only by Unicode normalisation, stays
/// itself), sorted bytewise. `FileManager.contentsOfDirectory` gives neither guarantee; this is
/// `TreeIO`'s listing for the modules above (`ImageBuilder`'s mount stubs).
public func directoryEntryNames(_ path: String) throws -> [String] {
    try TreeIO.listDirectory(path)
}
