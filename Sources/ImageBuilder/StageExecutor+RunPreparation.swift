import BlockingWork
import DockerfileSyntax
import Foundation
import ImageModel
import Sandbox

/// What a stage's first RUN waits for that nothing before it can change, started with the
/// stage (issue 13): in a cold build the sandbox probe (`Sandbox.support()`: a helper process,
/// once per build) and unpacking the base's root file system into the store's cache
/// (`ImageStore.rootfs`) ran one after the other inside that RUN, one core idle. Now they run
/// on a thread of their own (`DedicatedThread`) beside the base's view being read and the COPY
/// after the RUN being planned early (`EarlyCopy`); the RUN's own calls find the probe done
/// and the root in the cache, or wait for them (the probe is a once-initialised value, the
/// root is built under its cache entry's lock).
///
/// Best effort: a failure here is met again, and reported at its line, by the RUN itself.
extension StageExecutor {
    /// Starts that work when the stage's first instruction is a RUN that will execute: its
    /// key has no record (or the cache is off for the stage) — so a rebuild whose RUNs hit
    /// probes and unpacks nothing — and it has no bind mount (whose content, part of the key,
    /// is read at the step). Its lower directories are then exactly the base's layers, as
    /// `lowerDirectories` asks for them; every one must be in the store already (a lazily
    /// pulled base is fetched by the RUN, as before). `BuildSession.cleanUp` waits for it.
    func prepareFirstRun(of stage: Stage) {
        guard session.options.runMode == .exec, (state.config.config.onBuild ?? []).isEmpty,
              let first = stage.instructions.first, case .run(let run) = first.kind,
              !run.flags.contains(where: { $0.name == "mount" && (try? RunMount.parse($0.value ?? ""))?.kind != .cache }) else { return }
        let (config, args) = (state.config, state.args)
        guard let expanded = try? first.expanded(escape: escape, lookup: { StageState.lookup($0, config: config, args: args) }).instruction
        else { return }
        var layers: [(digest: Digest, diffID: Digest)] = []
        for layer in state.layers {
            guard case .stored(let descriptor, let diffID, _) = layer, session.store.hasBlob(descriptor.digest) else { return }
            layers.append((descriptor.digest, diffID))
        }
        let key = baseStepKey(first, expanded: expanded)
        guard key.isKnown, cacheDisabled
            || (session.store.stepCacheRecord(key: key.value) == nil && session.importedRecord(key: key.value) == nil) else { return }
        let (store, base) = (session.store, layers)
        session.runPreparations.append(DedicatedThread(stackSize: 8 << 20) {
            let support = Sandbox.support()
            guard support.available else { return }
            // As `lowerDirectories` asks for it: owners on disk for overlay.
            _ = try? store.rootfs(forLayers: base, givingOwners: support.isolation == .overlay)
        })
    }
}
