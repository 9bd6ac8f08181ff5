import Layers

/// Users and groups of an image, from its `/etc/passwd` and `/etc/group`.
public enum ImageUsers {
    /// Resolves `user[:group]` (names or numbers) against the image's layers (blob paths,
    /// bottom first), as docker does for USER and `run -u`.
    public static func resolve(_ spec: String, layers: [String]) throws -> (uid: Int, gid: Int) {
        guard let resolved = try database(layers).resolveUser(spec) else {
            throw BuildError("unable to find user \(spec): no matching entries in passwd file")
        }
        return resolved
    }

    /// The home directory docker gives `uid` when the image sets no HOME.
    public static func home(uid: Int, layers: [String]) throws -> String {
        try database(layers).home(uid: uid)
    }

    private static func database(_ layers: [String]) throws -> UserDatabase {
        UserDatabase(passwd: try LayerUnpacker.readFile("etc/passwd", fromLayers: layers),
                     group: try LayerUnpacker.readFile("etc/group", fromLayers: layers))
    }
}
