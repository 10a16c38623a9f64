import Configuration
import Synchronization

extension SettingsReader {
    /// What one load read: each setting and its source, the problems and warnings, and the
    /// access event the library reports for the latest read.
    final class Log: AccessReporter, Sendable {
        private struct State {
            var event: AccessEvent?
            var settings: [ConfigurationSetting] = []
            var problems: [ConfigurationProblem] = []
            var warnings: [ConfigurationProblem] = []
        }

        private let state = Mutex(State())
        let opened: ConfigurationSources.Opened
        let sources: ConfigurationSources

        /// Lists read one template item (`routes.N.pathPrefix`) instead of their items, to name every key.
        let readsTemplates: Bool

        init(opened: ConfigurationSources.Opened, sources: ConfigurationSources, readsTemplates: Bool = false) {
            (self.opened, self.sources, self.readsTemplates) = (opened, sources, readsTemplates)
        }

        var settings: [ConfigurationSetting] { state.withLock { $0.settings } }
        var problems: [ConfigurationProblem] { state.withLock { $0.problems } }
        var warnings: [ConfigurationProblem] { state.withLock { $0.warnings } }

        func report(_ event: AccessEvent) {
            state.withLock { $0.event = event }
        }

        /// The latest read's event, which is then forgotten.
        func takeEvent() -> AccessEvent? {
            state.withLock { state in
                defer { state.event = nil }
                return state.event
            }
        }

        func setting(_ key: String, value: String, source: ConfigurationSource) {
            state.withLock { $0.settings.append(.init(key: key, value: value, source: source)) }
        }

        func problem(_ problem: ConfigurationProblem) {
            state.withLock { $0.problems.append(problem) }
        }

        func warning(_ warning: ConfigurationProblem) {
            state.withLock { $0.warnings.append(warning) }
        }

        /// Where the setting `key` came from, as it was read; `nil` for its default.
        func source(of key: String) -> ConfigurationSource? {
            state.withLock { state in state.settings.last { $0.key == key }?.source }.flatMap { $0 == .defaultValue ? nil : $0 }
        }

        /// The source whose provider answered (or failed) an access.
        func source(of event: AccessEvent?) -> ConfigurationSource? {
            guard let event else { return nil }
            let key = event.metadata.key.components.joined(separator: ".")
            for result in event.providerResults {
                var encodedKey: String?
                if case .success(let lookup) = result.result {
                    guard lookup.value != nil else { continue }
                    encodedKey = lookup.encodedKey
                }
                switch result.providerName {
                case opened.flagsName:
                    return .flag(sources.flags[key]?.name ?? key)
                case opened.environmentName:
                    return .environment(encodedKey ?? ConfigurationSources.environmentVariable(for: key))
                case opened.fileName:
                    let variable = encodedKey?.split(separator: "(env:").dropFirst().first.map { String($0.dropLast()) }
                    return sources.file.map { .file(path: $0, variable: variable) }
                default:
                    return nil
                }
            }
            return nil
        }
    }
}
