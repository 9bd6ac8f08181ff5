import ArgumentParser
import Foundation
import ImageModel
import ImageBuilder
import ImageStore

/// Options every command that touches the local store shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("root"), help: "Local store directory (default: $SWIFTDOCK_HOME, else $XDG_DATA_HOME/swiftdock or ~/.local/share/swiftdock).")
    var root: String?

    func openStore() throws -> ImageStore {
        try ImageStore(root: root ?? ImageStore.defaultRoot(), ownership: NamespaceOwnership.current)
    }
}

/// Parses a reference given on the command line, with docker's wording on failure.
func parseReference(_ text: String) throws -> Reference {
    do {
        return try Reference(parsing: text)
    } catch {
        throw ValidationError("\(error)")
    }
}
