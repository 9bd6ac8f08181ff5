import Foundation
import ImageModel

/// A tar of an OCI image layout (`oci-archive:`, and the core of `docker-archive:` and
/// `save`): `blobs/sha256/…`, `index.json`, then the trailing files (`oci-layout`, and for
/// docker's format `manifest.json` and `repositories`), in that order so the bytes of an
/// archive of the same images are always the same.
enum LayoutArchive {
    static var layoutFile: (name: String, bytes: [UInt8]) { ("oci-layout", ImageStore.layoutFileContent) }

    /// Writes the archive to `output` through a temporary file beside it, renamed into place
    /// (an existing file is replaced, as `docker save -o` and skopeo do; a directory is
    /// refused). Every blob is checked against its digest as it is written.
    static func write(index: ImageIndex, blobs: [Digest], blobPath: (Digest) -> String,
                      trailer: [(name: String, bytes: [UInt8])] = [layoutFile], to output: String) throws {
        if FileSystem.isDirectory(output) { throw StoreError.outputExists(path: output) }
        let parent = (output as NSString).deletingLastPathComponent
        let temporary = "\(parent)/.\((output as NSString).lastPathComponent).\(FileSystem.randomHex(8)).tmp"
        do {
            let tar = try TarWriter(path: temporary)
            try tar.addDirectory("blobs/")
            try tar.addDirectory("blobs/sha256/")
            for digest in blobs {
                let actual = try tar.addFile("blobs/sha256/\(digest.encoded)", contentsOf: blobPath(digest))
                guard actual == digest else { throw StoreError.digestMismatch(path: blobPath(digest), expected: digest, actual: actual) }
            }
            try tar.addFile("index.json", Array(try CanonicalJSON.encode(index)))
            for (name, bytes) in trailer { try tar.addFile(name, bytes) }
            try tar.close()
            try FileSystem.rename(temporary, output)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
        FileSystem.syncDirectory(parent)
    }
}
