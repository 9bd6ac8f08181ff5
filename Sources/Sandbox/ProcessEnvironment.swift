/// A process environment as a list of `K=V` entries, merged by docker's rules. Kept as a
/// list (not a dictionary) because order is what the process sees and what `env` prints.
public enum ProcessEnvironment {
    /// The name of a `K=V` entry (the whole entry when it has no `=`).
    public static func name(of entry: String) -> Substring {
        entry.prefix { $0 != "=" }
    }

    /// Whether `environment` sets `name`.
    public static func contains(_ name: String, in environment: [String]) -> Bool {
        environment.contains { self.name(of: $0) == name && $0.contains("=") }
    }

    /// The value `environment` gives `name` (its first entry), nil when unset.
    public static func value(of name: String, in environment: [String]) -> String? {
        environment.first { self.name(of: $0) == name && $0.contains("=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// docker's `-e` merge (moby's ReplaceOrAppendEnvValues): `K=V` replaces K's entry where it
    /// stands or is appended; a bare `K` unsets K. Throws for an entry without a name (`=V`).
    public static func applying(_ overrides: [String], to base: [String]) throws -> [String] {
        var environment = base
        for entry in overrides {
            let name = self.name(of: entry)
            guard !name.isEmpty else { throw ProcessModelError.invalidEnvironment(entry) }
            guard entry.contains("=") else {
                environment.removeAll { self.name(of: $0) == name }
                continue
            }
            if let index = environment.firstIndex(where: { self.name(of: $0) == name }) {
                environment[index] = entry
                environment = environment.enumerated()
                    .filter { $0.offset == index || self.name(of: $0.element) != name }.map(\.element)
            } else {
                environment.append(entry)
            }
        }
        return environment
    }

    /// Appends each `K=V` of `defaults` whose name `base` does not set (RUN's build args, which
    /// never override the image's Env).
    public static func addingMissing(_ defaults: [String], to base: [String]) -> [String] {
        var environment = base
        for entry in defaults where !contains(String(name(of: entry)), in: environment) {
            environment.append(entry)
        }
        return environment
    }

    /// docker's client-side reading of `-e K` (no `=`): `K=V` with this process's value of K, or
    /// the bare `K` (which then unsets K) when K is not set here.
    public static func resolvingFromHost(_ entry: String, host: [String: String]) -> String {
        guard !entry.contains("="), let value = host[entry] else { return entry }
        return entry + "=" + value
    }
}
