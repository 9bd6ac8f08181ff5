import Foundation
import PackagePlugin

/// Embeds the git commit the binary is built from (`swiftdock version`), never stale: a
/// prebuild command runs before every build and rewrites `GitCommit.swift` only when the
/// commit (or its dirty mark) changed, so an unchanged tree does not recompile anything.
/// A committed file would go stale with the next commit, and SwiftPM has no `-D` from the
/// environment; outside a git checkout (a source tarball) the commit reads "unknown".
@main
struct GitCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "GitCommit")
        let script = #"""
        dir=$1 out=$2
        mkdir -p "$out"
        commit=$(git -C "$dir" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
        if [ "$commit" != unknown ] && ! git -C "$dir" diff --quiet HEAD -- 2>/dev/null; then commit="$commit-dirty"; fi
        printf '/// The git commit this binary was built from (written by GitCommitPlugin).\nlet gitCommit = "%s"\n' "$commit" > "$out/GitCommit.swift.new"
        if cmp -s "$out/GitCommit.swift.new" "$out/GitCommit.swift"; then rm -f "$out/GitCommit.swift.new"
        else mv "$out/GitCommit.swift.new" "$out/GitCommit.swift"; fi
        """#
        return [.prebuildCommand(
            displayName: "Embedding the git commit",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
            outputFilesDirectory: output)]
    }
}
