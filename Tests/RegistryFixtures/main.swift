// registry-fixtures: loopback stand-ins that the registry tests run against.
//
//   registry-fixtures serve --state DIR [--token-port P] [--ar-token-port P] [--google-port P]
//                           [--proxy LISTEN:UPSTREAM:MODE ...] [--jwt-key-id x5c|libtrust]
//
// See `FixtureOptions` for every flag and `scripts/registries.sh` for how they are wired together.
import Foundation

do {
    let options = try FixtureOptions.parse(Array(CommandLine.arguments.dropFirst()))
    try await FixtureServer(options: options).run()
} catch let error as UsageError {
    FileHandle.standardError.write(Data("registry-fixtures: \(error.message)\n\n\(FixtureOptions.usage)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("registry-fixtures: \(error)\n".utf8))
    exit(1)
}
