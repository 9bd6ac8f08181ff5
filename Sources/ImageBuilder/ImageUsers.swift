import Layers

/// Users and groups of an image, from its `/etc/passwd` and `/etc/group`.
///
/// The layers are read with their digests: every blob streamed is verified as the rest of the
/// unpacking is, so a stored layer whose bytes changed fails with `LayerError.digestMismatch`
/// instead of lending its passwd file to `run -u` (issue 10).
public enum ImageUsers {
    /// Resolves `user[:group]` (names or numbers) against the image's layers (blobs with their
    /// digests, bottom first), as docker does for USER and `run -u`.
    public static func resolve(_ spec: String, layers: [LayerBlob]) throws -> (uid: Int, gid: Int) {
        guard let resolved = try database(layers).resolveUser(spec) else {
            throw BuildError("unable to find user \(spec): no matching entries in passwd file")
        }
        return resolved
    }

    /// The home directory docker gives `uid` when the image sets no HOME.
    public static func home(uid: Int, layers: [LayerBlob]) throws -> String {
        try database(layers).home(uid: uid)
    }

    private static func database(_ layers: [LayerBlob]) throws -> UserDatabase {
        UserDatabase(passwd: try LayerUnpacker.readFile("etc/passwd", fromBlobs: layers),
                     group: try LayerUnpacker.readFile("etc/group", fromBlobs: layers))
    }
}
