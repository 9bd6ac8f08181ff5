import ArgumentParser
import ImageModel

/// `build --output type=registry[,name=REF][,push=true]`, in buildx's spelling: push the
/// image without keeping it in the local store. buildx's other exporters (docker, oci, tar,
/// local) are not offered; naming one is a usage error rather than a silent no-op.
struct BuildOutput: Equatable {
    /// Where to push; empty means the `-t` names.
    var names: [Reference]

    init(parsing text: String) throws {
        var type: String?
        var names: [Reference] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw ValidationError("invalid --output \"\(text)\": expected KEY=VALUE fields, got \"\(field)\"")
            }
            switch parts[0] {
            case "type": type = parts[1]
            case "name":
                do { names.append(try Reference(parsing: parts[1])) } catch {
                    throw ValidationError("invalid --output name \"\(parts[1])\": \(error)")
                }
            case "push":
                // type=registry is buildx's type=image,push=true: it always pushes.
                guard parts[1] == "true" else {
                    throw ValidationError("--output type=registry always pushes: push=\(parts[1]) is not supported")
                }
            default:
                throw ValidationError("unsupported --output field \"\(parts[0])\" (supported: type, name, push)")
            }
        }
        guard let type else { throw ValidationError("invalid --output \"\(text)\": type= is missing (type=registry)") }
        guard type == "registry" else {
            throw ValidationError("unsupported --output type \"\(type)\": only type=registry is supported (the local store is the default output)")
        }
        self.names = names
    }
}
