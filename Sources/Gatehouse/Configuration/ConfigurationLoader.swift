import Configuration

/// Reads a ``GatehouseConfiguration`` from its sources and says where each setting came from.
///
/// Every problem is reported with its key, its source and a fix, all at once; a configuration with
/// any problem is refused whole, so the gateway never starts half-configured.
public enum ConfigurationLoader {
    /// Reads and validates the configuration `sources` give.
    public static func load(_ sources: ConfigurationSources) async throws(ConfigurationError) -> LoadedConfiguration {
        let opened = try await sources.open()
        let log = SettingsReader.Log(opened: opened, sources: sources)
        let snapshot = ConfigReader(providers: opened.providers, accessReporter: log).snapshot()
        let configuration = GatehouseConfiguration(reader: SettingsReader(snapshot: snapshot, log: log))
        let problems = log.problems
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        let read = log.settings.map(\.key)
        let unknown = opened.fileKeys.filter { !Set(read).contains($0) }.map { key in
            let suggestion = suggestion(for: key, among: read).map { "did you mean \"\($0)\"? " } ?? ""
            return ConfigurationProblem(
                key: key,
                message: "is not a Gatehouse setting and is ignored",
                fix: "\(suggestion)remove it or correct its name",
                source: sources.file.map { .file(path: $0, variable: nil) }
            )
        }
        return LoadedConfiguration(configuration: configuration, warnings: log.warnings + unknown, settings: log.settings)
    }

    /// Every key a configuration is read with, whatever its values: all sections are read whole,
    /// and a list's keys once, with `N` for the index (`access.routes.N.pathPrefix`).
    public static func keys(environment: [String: String] = [:]) async -> [String] {
        let sources = ConfigurationSources(environment: environment)
        guard let opened = try? await sources.open() else { return [] }
        let log = SettingsReader.Log(opened: opened, sources: sources, readsTemplates: true)
        _ = GatehouseConfiguration(reader: SettingsReader(snapshot: ConfigReader(providers: opened.providers, accessReporter: log).snapshot(), log: log))
        var seen: Set<String> = []
        return log.settings.map(\.key).filter { seen.insert($0).inserted }
    }

    /// The known key `unknown` is most likely a misspelling of: the same but for case, or within
    /// two edits of it in the same section.
    static func suggestion(for unknown: String, among known: [String]) -> String? {
        if let exact = known.first(where: { $0.lowercased() == unknown.lowercased() }) { return exact }
        let section = unknown.split(separator: ".").dropLast()
        return known.filter { $0.split(separator: ".").dropLast() == section }
            .map { ($0, editDistance(Array(unknown.lowercased()), Array($0.lowercased()))) }
            .filter { $0.1 <= 2 }
            .min { $0.1 < $1.1 }?.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1]
            for (j, right) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
