/// The container command that runs a notebook to completion, as the tutorial's post-startup
/// script did, and keeps what it wrote: files created or changed under the working directory
/// are copied to Cloud Storage through Vertex AI's FUSE mount (`gs://B/P` is `/gcs/B/P`).
/// The notebook's exit status is the job's, and outputs are copied even when it fails, so a
/// partial result is not lost.
public struct NotebookRun: Sendable, Equatable {
    /// The notebook's path inside the image; relative paths are relative to `workdir`.
    public var notebook: String
    /// Where to run; by default the notebook's directory when its path is absolute.
    public var workdir: String?
    /// `gs://BUCKET[/PREFIX]` for the outputs, or nil to keep nothing.
    public var outputs: String?
    /// Where Vertex AI mounts Cloud Storage in the container; tests point it elsewhere.
    public var fuseRoot: String
    /// Papermill's parameters (`-p NAME VALUE`, in order); with any, or with `parametersYAML`,
    /// papermill runs the notebook instead of nbconvert.
    public var parameters: [Parameter]
    /// A parameters file's text, passed as papermill's `-y` (JSON is YAML); `-p` wins over it.
    public var parametersYAML: String?

    /// One `NAME=VALUE`; papermill reads VALUE as a number or boolean when it looks like one.
    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }

        /// `NAME=VALUE`, where NAME is a Python identifier (papermill assigns it in a cell).
        public init(parsing pair: String) throws {
            guard let equals = pair.firstIndex(of: "=") else {
                throw VertexError(.usage, "--parameters \(pair): expected NAME=VALUE")
            }
            let name = String(pair[..<equals])
            guard let first = name.first, first == "_" || first.isLetter,
                  name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else {
                throw VertexError(.usage, "--parameters \(pair): \"\(name)\" is not a Python name")
            }
            self.init(name: name, value: String(pair[pair.index(after: equals)...]))
        }
    }

    public init(notebook: String, workdir: String? = nil, outputs: String? = nil, fuseRoot: String = "/gcs",
                parameters: [Parameter] = [], parametersYAML: String? = nil) {
        self.notebook = notebook
        self.workdir = workdir
        self.outputs = outputs
        self.fuseRoot = fuseRoot
        self.parameters = parameters
        self.parametersYAML = parametersYAML
    }

    /// `/gcs/BUCKET/PREFIX` for `gs://BUCKET/PREFIX`.
    public static func fuseMountPath(_ uri: String, root: String = "/gcs") throws -> String {
        guard uri.hasPrefix("gs://") else {
            throw VertexError(.usage, "--outputs \(uri): not a Cloud Storage URI (gs://BUCKET/PREFIX)")
        }
        var rest = String(uri.dropFirst(5))
        while rest.hasSuffix("/") { rest.removeLast() }
        let bucket = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let bucketCharacters = bucket.allSatisfy { $0.isLowercase || $0.isNumber || "-_.".contains($0) }
        guard (3...222).contains(bucket.count), bucketCharacters, bucket.first?.isLetter == true || bucket.first?.isNumber == true else {
            throw VertexError(.usage, "--outputs \(uri): \"\(bucket)\" is not a bucket name")
        }
        return root + "/" + rest
    }

    /// `["/bin/sh", "-c"]` and the script as the one argument.
    public func containerCommand() throws -> (command: [String], args: [String]) {
        guard notebook.hasSuffix(".ipynb"), !notebook.hasSuffix("/") else {
            throw VertexError(.usage, "--notebook \(notebook): not a notebook file (*.ipynb)")
        }
        let directory: String?
        let file: String
        if let workdir {
            directory = workdir
            file = notebook
        } else if notebook.hasPrefix("/"), let slash = notebook.lastIndex(of: "/") {
            directory = slash == notebook.startIndex ? "/" : String(notebook[..<slash])
            file = String(notebook[notebook.index(after: slash)...])
        } else {
            directory = nil
            file = notebook
        }
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let executed = "executed-" + name
        var lines = ["set -u"]
        if let directory { lines.append("cd \(Shell.quote(directory)) || exit 1") }
        // A second's gap, so that files the notebook writes are strictly newer than the marker
        // even on file systems with coarse timestamps.
        lines.append("started=$(mktemp) && sleep 1 || exit 1")
        // nbconvert keeps the executed notebook (with its outputs) beside the original; images
        // without it still have IPython, which runs a notebook's code cells in order.
        if parameters.isEmpty && parametersYAML == nil {
            lines.append("if jupyter nbconvert --version >/dev/null 2>&1; then "
                + "jupyter nbconvert --to notebook --execute --output \(Shell.quote(executed)) \(Shell.quote(file)); "
                + "else ipython \(Shell.quote(file)); fi")
        } else {
            // Parameters are papermill's convention (a cell tagged `parameters`); nbconvert and
            // IPython cannot inject them, so without papermill the job fails and says why.
            var papermill = ["papermill", Shell.quote(file), Shell.quote(executed)]
            if let parametersYAML { papermill += ["-y", Shell.quote(parametersYAML)] }
            for parameter in parameters { papermill += ["-p", Shell.quote(parameter.name), Shell.quote(parameter.value)] }
            lines.append("if command -v papermill >/dev/null 2>&1; then " + papermill.joined(separator: " ") + "; "
                + "else echo 'swiftdock: --parameters needs papermill, and this image has none (pip install papermill)' >&2; "
                + "(exit 127); fi")
        }
        lines.append("status=$?")
        if let outputs {
            let destination = try Self.fuseMountPath(outputs, root: fuseRoot)
            lines.append("dest=\(Shell.quote(destination))")
            lines.append("find . -type f -newer \"$started\" ! -path '*/.*' | while IFS= read -r f; do "
                + "mkdir -p \"$dest/$(dirname \"$f\")\" && cp \"$f\" \"$dest/$f\" && echo \"kept ${f#./} in \(outputs)\"; done")
        }
        lines.append("rm -f \"$started\"")
        lines.append("exit $status")
        return (["/bin/sh", "-c"], [lines.joined(separator: "\n")])
    }
}

/// POSIX shell quoting.
enum Shell {
    /// `value` in single quotes, with embedded single quotes closed and escaped.
    static func quote(_ value: String) -> String {
        let safe = !value.isEmpty && value.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@%".contains($0) }
        if safe && value.allSatisfy(\.isASCII) { return value }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
