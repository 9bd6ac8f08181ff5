import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry
import Signing

/// `swiftdock sign --key KEY REF`: signs the manifest REF points at in cosign's format, so
/// `cosign verify --key` (and admission controllers that use it) accept the image.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Sign an image in a registry with a key, in cosign's format.", usage: Synopsis.sign)

    @Option(help: "Private key file: PEM PKCS#8 EC P-256 or Ed25519, or cosign's encrypted key (password from $COSIGN_PASSWORD).")
    var key: String

    @OptionGroup var target: SignedImageOptions

    func run() async throws {
        let signingKey = try SigningKey(pem: try readKeyFile(key), name: key, password: { try cosignPassword(for: key) })
        let (reference, outcome) = try await target.withSignatures { try await $0.sign($1, with: signingKey) }
        let subject = "\(reference.repository)@\(outcome.digest)"
        if outcome.added {
            print("Signed \(subject) (\(signingKey.algorithm.rawValue)); signature \(outcome.count) at \(outcome.signatureReference)")
        } else {
            print("\(subject) already carries this signature at \(outcome.signatureReference)")
        }
    }
}

/// `swiftdock verify --key PUB REF`: checks that the image REF points at now carries a
/// cosign signature by PUB's key naming that very manifest.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify an image's cosign signature with a public key.", usage: Synopsis.verify)

    @Option(help: "Public key file (PEM, EC P-256 or Ed25519; cosign.pub).")
    var key: String

    @OptionGroup var target: SignedImageOptions

    func run() async throws {
        let verificationKey = try VerificationKey(pem: try readKeyFile(key), name: key)
        let (reference, outcome) = try await target.withSignatures { try await $0.verify($1, with: verificationKey) }
        print("Verified \(reference.repository)@\(outcome.digest): \(outcome.verified) of \(outcome.total) signatures by \(key)")
    }
}

/// The image `sign` and `verify` take, and how to reach its registry.
struct SignedImageOptions: ParsableArguments {
    @OptionGroup var registry: RegistryCLIOptions

    @OptionGroup var store: StoreOptions

    @Argument(help: "The image in its registry (REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:…), or the ID of a local image pushed from this store.")
    var image: String

    /// Runs `body` with the image's reference and a registry client, closed afterwards. A local
    /// image ID stands for the digest it was last pushed as (docker takes IDs wherever it takes
    /// an image), said on stderr.
    func withSignatures<T>(_ body: (CosignSignatures, Reference) async throws -> T) async throws -> (Reference, T) {
        let reference: Reference
        if let pushed = try PushedImage.pushedImage(byID: image, storeRoot: store.root ?? ImageStore.defaultRoot()) {
            printError("\(image) was pushed as \(pushed.reference): using \(pushed.pinned)")
            reference = try parseReference(pushed.pinned)
        } else {
            reference = try parseReference(image)
        }
        let result = try await withClient(registry.makeClient()) { client in
            try await body(CosignSignatures(client: client), reference)
        }
        return (reference, result)
    }
}

/// A key file's bytes; at most 64 KiB are read (a key is a few hundred bytes, and the path may
/// name a device that never ends).
func readKeyFile(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
          let handle = FileHandle(forReadingAtPath: path) else {
        throw CommandFailure("cannot read key file \(path)", code: ExitCode32.failure)
    }
    defer { try? handle.close() }
    let limit = 64 << 10
    let bytes = (try? handle.read(upToCount: limit + 1)) ?? Data()
    guard bytes.count <= limit else { throw CommandFailure("\(path): too big for a key file (limit 64 KiB)", code: ExitCode32.failure) }
    return Array(bytes)
}

/// The password of an encrypted cosign key: `$COSIGN_PASSWORD` (empty is a valid password, as
/// in cosign), else asked on the terminal; without either, an error that says what to set.
func cosignPassword(for keyFile: String) throws -> [UInt8] {
    if let password = ProcessInfo.processInfo.environment["COSIGN_PASSWORD"] { return Array(password.utf8) }
    guard isatty(STDIN_FILENO) == 1, let typed = getpass("Enter password for private key \(keyFile): ") else {
        throw CommandFailure("\(keyFile) is encrypted: set COSIGN_PASSWORD to its password", code: ExitCode32.failure)
    }
    return Array(String(cString: typed).utf8)
}
