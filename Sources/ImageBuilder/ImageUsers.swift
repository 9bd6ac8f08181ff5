import Layers
import Sandbox

/// Users and groups of an image, from its `/etc/passwd` and `/etc/group`.
///
/// The layers are read with their digests: every blob streamed is verified as the rest of the
/// unpacking is, so a stored layer whose bytes changed fails with `LayerError.digestMismatch`
/// instead of lending its passwd file to `run -u` (issue 10).
public enum ImageUsers {
    /// The passwd/group database of an image's layers (blobs with their digests, bottom
    /// first), for `ProcessModel` (`swiftdock run`, as RUN reads it from the stage's view).
    public static func database(_ layers: [LayerBlob]) throws -> UserDatabase {
        UserDatabase(passwd: try LayerUnpacker.readFile("etc/passwd", fromBlobs: layers),
                     group: try LayerUnpacker.readFile("etc/group", fromBlobs: layers))
    }
}
