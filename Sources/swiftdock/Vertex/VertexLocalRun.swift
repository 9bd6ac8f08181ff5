import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Sandbox
import Vertex

/// `vertex run IMAGE --local`: runs the container spec of the CustomJob that `vertex run` would
/// send — the same body, from the same builder — in the rootless sandbox, from the local store,
/// instead of on Vertex AI (Google's equivalent, `gcloud ai custom-jobs local-run`, needs Docker).
/// Nothing is sent to Google.
struct VertexLocalRun {
    var job: CustomJob
    /// The host directory that stands in for Vertex's Cloud Storage FUSE mount: `/gcs/BUCKET/…`
    /// in the container is `gcsDirectory/BUCKET/…` here.
    var gcsDirectory: String

    /// Vertex's Cloud Storage mount point in the container.
    static let fuseRoot = "/gcs"

    /// `$SWIFTDOCK_HOME/gcs` (the store's root), the default for `--gcs-dir`.
    static func defaultGCSDirectory(storeRoot: String) -> String { storeRoot + "/gcs" }

    /// Runs the first worker pool's container; returns its exit status.
    func run(store: ImageStore, registry: RegistryCLIOptions) async throws -> Int32 {
        guard let spec = job.jobSpec.workerPoolSpecs.first?.containerSpec else {
            throw ValidationError("the CustomJob has no worker pool")
        }
        try FileManager.default.createDirectory(atPath: gcsDirectory, withIntermediateDirectories: true)
        let launch = ImageLaunch(
            image: spec.imageUri,
            // Vertex's (Kubernetes') rules are docker's: `command` replaces ENTRYPOINT and, given
            // alone, drops CMD too; `args` replaces CMD.
            command: .image(entrypoint: spec.command, arguments: spec.args),
            environment: (spec.env ?? []).map { "\($0.name)=\($0.value)" },
            mounts: [SandboxMount(source: gcsDirectory, target: Self.fuseRoot, readOnly: false)])
        return try await launch.run(store: store, client: registry.makeClient())
    }
}
